package httpin

import (
	_ "embed" // the OpenAPI document

	"github.com/valyala/fasthttp"
)

// openAPIDoc is the OpenAPI 3.1 document of the /v1 API and the inbound
// receiver, written by hand from the handlers and the engine's types. Its
// paths follow routeTable's order; schemas are under components, by name.
// The tests keep it true: TestOpenAPIRoutes holds it to the route table
// both ways (method and scope), and every answer a test server of this
// package gives (and every JSON request it takes) is validated against it
// when the test ends, so a route, a field, a status or an error code
// changed without it fails. A new route takes its operation here (scope
// in x-hookline-scope, codes by status in x-hookline-error-codes) and a
// 2xx call in TestOpenAPIResponses.
//
//go:embed openapi.json
var openAPIDoc []byte

// openAPI serves GET /v1/openapi.json. It needs no token: the document
// describes the API, it holds nothing of any tenant.
func (s *Server) openAPI(ctx *fasthttp.RequestCtx) {
	ctx.SetContentType("application/json")
	ctx.SetBody(openAPIDoc)
}
