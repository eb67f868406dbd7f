// Package access decides who may do what: tenant API keys and portal
// sessions (stored as SHA-256 hashes, shown once), the scopes a
// credential holds, and the audit log of management actions with the
// actor that made each and why. The engine core does not import it;
// httpin checks every route's scope through it. It must not import
// httpin, bench or cmd.
package access
