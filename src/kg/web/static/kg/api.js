// The vendored Swagger UI on this server's OpenAPI document; no validator badge (it would call validator.swagger.io).
window.kgSwagger = SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  validatorUrl: null,
  deepLinking: true,
  tryItOutEnabled: false,
  defaultModelsExpandDepth: 0,
});
