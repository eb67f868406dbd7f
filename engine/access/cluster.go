package access

// Reload loads the API keys and portal sessions again from the store:
// cluster mode calls it after another node changed one.
func (a *Access) Reload() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.keys, a.sessions = make(map[[32]byte]*apiKeyEntry), make(map[[32]byte]*portalEntry)
	if err := a.loadAPIKeys(); err != nil {
		return err
	}
	return a.loadPortalSessions()
}
