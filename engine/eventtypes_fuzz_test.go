package engine

import (
	"encoding/json"
	"testing"
)

// FuzzEventTypeSchema: any schema and payload bytes give a compile error, a
// validation error or success, never a panic (the compiler and validator
// are a library's; publishing runs them on customers' input).
func FuzzEventTypeSchema(f *testing.F) {
	f.Add([]byte(`{"type":"object","required":["a"]}`), []byte(`{"a":1}`))
	f.Add([]byte(`{"$ref":"#/definitions/x","definitions":{"x":{"type":"string","pattern":"^a+$"}}}`), []byte(`"aaa"`))
	f.Add([]byte(`{"$ref":"http://127.0.0.1/"}`), []byte(`1`))
	f.Add([]byte(`{"items":{"$ref":"#"}}`), []byte(`[[[[]]]]`))
	f.Fuzz(func(t *testing.T, schema, payload []byte) {
		sch, err := compileSchema(json.RawMessage(schema))
		if err != nil {
			return
		}
		ts := &tenantState{types: map[string]*eventTypeEntry{"a": {schema: sch}}}
		_ = validatePayloads(ts, []PublishEvent{{Type: "a", Payload: payload}})
	})
}
