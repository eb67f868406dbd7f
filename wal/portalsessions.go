package wal

// kindPortalSession keys portal sessions by the SHA-256 of their token:
// y <hash> -> record (JSON, owned by engine/access). The token itself is
// never stored.
const kindPortalSession = 'y'

// PutPortalSession stores the record of the session whose token's hash is
// hash (again, when it is revoked).
func (l *Log) PutPortalSession(hash [32]byte, val []byte) error {
	return l.putHashed(kindPortalSession, "portal session", hash, val)
}

// DeletePortalSession removes a session's record.
func (l *Log) DeletePortalSession(hash [32]byte) error {
	return l.deleteHashed(kindPortalSession, "portal session", hash)
}

// ScanPortalSessions calls fn with every session record, for start-up.
func (l *Log) ScanPortalSessions(fn func(hash [32]byte, val []byte)) error {
	return l.scanHashed(kindPortalSession, fn)
}
