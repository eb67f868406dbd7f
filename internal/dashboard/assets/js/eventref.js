// The event reference the CLI writes (`hookline docs events`, in
// cmd/hookline/cli_docs.go), built in the browser: the same example
// builder and the same Markdown, byte for byte, so a tenant's customers
// read one reference whichever way it was made. The CLI's JSON is Go's
// encoding/json output, so goJSON mirrors it (sorted keys, two-space
// indent, <>& and U+2028/9 escaped, -0 kept, lone surrogates as U+FFFD)
// rather than using JSON.stringify's own layout. The page shows the same
// layout without the HTML escapes (readableJSON).

// exampleOf is an example value for a JSON Schema: its examples, example,
// const, default or first enum value, else one built from its type (the
// CLI's exampleOf, rule for rule).
export function exampleOf(schema, depth = 0) {
  if (!isObject(schema) || depth > 8) return null;
  const has = (k) => Object.prototype.hasOwnProperty.call(schema, k);
  if (Array.isArray(schema.examples) && schema.examples.length > 0) return schema.examples[0];
  for (const k of ['example', 'const', 'default']) {
    if (has(k)) return schema[k];
  }
  if (Array.isArray(schema.enum) && schema.enum.length > 0) return schema.enum[0];
  let typ = typeof schema.type === 'string' ? schema.type : '';
  if (Array.isArray(schema.type) && schema.type.length > 0) typ = typeof schema.type[0] === 'string' ? schema.type[0] : '';
  if (typ === '' && has('properties')) typ = 'object';
  switch (typ) {
    case 'object': {
      const obj = {};
      const props = isObject(schema.properties) ? schema.properties : {};
      for (const k of Object.keys(props).sort(byBytes)) obj[k] = exampleOf(props[k], depth + 1);
      return obj;
    }
    case 'array':
      return [exampleOf(schema.items, depth + 1)];
    case 'string':
      switch (schema.format) {
        case 'date-time': return '2026-01-01T00:00:00Z';
        case 'email': return 'user@example.com';
        case 'uri': return 'https://example.com';
      }
      return 'string';
    case 'integer':
    case 'number':
      return has('minimum') ? schema.minimum : 0;
    case 'boolean':
      return false;
  }
  return null;
}

function isObject(v) {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

// byBytes orders keys as Go sorts strings (by UTF-8 bytes); UTF-16 code
// units differ from it only past U+FFFF against U+E000..U+FFFF.
function byBytes(a, b) {
  const ea = new TextEncoder().encode(a);
  const eb = new TextEncoder().encode(b);
  for (let i = 0; i < ea.length && i < eb.length; i++) {
    if (ea[i] !== eb[i]) return ea[i] - eb[i];
  }
  return ea.length - eb.length;
}

const loneSurrogate = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

function jsonString(s, goEscapes) {
  const q = JSON.stringify(s.replace(loneSurrogate, '\ufffd'));
  if (!goEscapes) return q;
  return q.replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

function encode(v, indent, goEscapes) {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'string') return jsonString(v, goEscapes);
  if (typeof v === 'number') return Object.is(v, -0) ? '-0' : JSON.stringify(v);
  if (typeof v === 'boolean') return String(v);
  const inner = indent + '  ';
  if (Array.isArray(v)) {
    if (v.length === 0) return '[]';
    return '[\n' + v.map((x) => inner + encode(x, inner, goEscapes)).join(',\n') + '\n' + indent + ']';
  }
  const keys = Object.keys(v).sort(byBytes);
  if (keys.length === 0) return '{}';
  return '{\n' + keys.map((k) => inner + jsonString(k, goEscapes) + ': ' + encode(v[k], inner, goEscapes)).join(',\n') + '\n' + indent + '}';
}

// goJSON is json.MarshalIndent(v, "", "  ") of the value Go's
// json.Unmarshal would have made of v: the Markdown's JSON.
export function goJSON(v) {
  return encode(v, '', true);
}

// readableJSON is goJSON without Go's HTML escapes (\u003c for <), which
// are the same JSON but harder to read: the page's JSON and what Copy
// copies.
export function readableJSON(v) {
  return encode(v, '', false);
}

// anchor is the GitHub-style heading anchor of an event type.
export function anchor(typ) {
  return typ.toLowerCase().replace(/[.*]/g, '').replace(/ /g, '-');
}

// hasSchema is the CLI's test for a registered schema.
export function hasSchema(et) {
  return et.schema !== null && et.schema !== undefined;
}

// markdown is the CLI's reference of tenant's event types (in the API's
// order).
export function markdown(tenant, types) {
  let b = '# Events of ' + tenant + '\n\n';
  if (types.length === 0) b += 'No event types are registered yet (`hookline event-types create`).\n';
  for (const et of types) b += '- [`' + et.type + '`](#' + anchor(et.type) + ')\n';
  for (const et of types) {
    b += '\n## ' + et.type + '\n\n';
    if (et.description) b += et.description + '\n\n';
    if (!hasSchema(et)) {
      b += 'No payload schema is registered.\n';
      continue;
    }
    b += '### Schema\n\n```json\n' + goJSON(et.schema) + '\n```\n\n';
    b += '### Example\n\n```json\n' + goJSON(exampleOf(et.schema)) + '\n```\n';
  }
  return b;
}
