package inbound

// SourceTenant names the tenant of source id (its API form), so cluster
// mode can forward a request to the tenant's owner.
func (rc *Receiver) SourceTenant(id string) (string, bool) {
	rc.mu.RLock()
	defer rc.mu.RUnlock()
	st := rc.sources[id]
	if st == nil {
		return "", false
	}
	return st.src.Tenant, true
}

// Reload loads the sources again from the store: cluster mode calls it
// after another node changed one.
func (rc *Receiver) Reload() error {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return rc.loadSources()
}
