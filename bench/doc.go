// Package bench owns hookline's load generator, receiving sink, scenarios and
// reports.
//
// The sink (Sink) is the receiving end of a delivery: `hookline sink` runs it
// so a person can watch signed deliveries arrive, and `hookline bench` runs it
// to count and time them. It verifies Standard Webhooks signatures with its
// own code rather than the server's signer, so a signing bug cannot hide
// behind a verifier that shares it.
//
// Package bench must not import cmd or httpin: the binary wires bench in, and
// the sink must see the server only through the wire format.
package bench
