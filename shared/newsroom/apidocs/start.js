// Starts Swagger UI on the API's contract (openapi.json, beside this script). The API is
// where this page is, less "/api-docs", so "Try it out" works under a stage or a base path.
(function () {
  "use strict";
  var root = document.getElementById("swagger-ui");
  var base = window.location.pathname.replace(/\/api-docs\/?$/, "");
  fetch(base + "/api-docs/openapi.json", { headers: { Accept: "application/json" } })
    .then(function (answer) {
      if (!answer.ok) {
        throw new Error("HTTP " + answer.status);
      }
      return answer.json();
    })
    .then(function (spec) {
      spec.servers = [{ url: window.location.origin + base, description: "this API" }];
      window.SwaggerUIBundle({
        spec: spec,
        domNode: root,
        deepLinking: true,
        validatorUrl: null,
        presets: [window.SwaggerUIBundle.presets.apis],
        layout: "BaseLayout",
      });
    })
    .catch(function (error) {
      root.textContent = "The API description could not be loaded (" + error.message + ").";
    });
})();
