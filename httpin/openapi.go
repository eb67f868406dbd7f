package httpin

import (
	_ "embed" // the OpenAPI document

	"github.com/valyala/fasthttp"
)

// openAPIDoc is the OpenAPI 3.1 document of the /v1 API and the inbound
// receiver. It is written by hand from the handlers and the engine's
// types; TestOpenAPI holds it to the route table both ways and validates
// real answers against it, so a route or a field changed without it
// fails there. Its operations follow routeTable's order and sections.
//
//go:embed openapi.json
var openAPIDoc []byte

// openAPI serves GET /v1/openapi.json. It needs no token: the document
// describes the API, it holds nothing of any tenant.
func (s *Server) openAPI(ctx *fasthttp.RequestCtx) {
	ctx.SetContentType("application/json")
	ctx.SetBody(openAPIDoc)
}
