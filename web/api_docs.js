// Starts Swagger UI on the /docs page (dfr/api/routes/docs.py), from a file so that the
// page runs under the content security policy: no inline script.
"use strict";

window.addEventListener("DOMContentLoaded", () => {
  const root = document.getElementById("swagger-ui");
  window.ui = window.SwaggerUIBundle({
    url: root.dataset.openapiUrl,
    domNode: root,
    layout: "BaseLayout",
    deepLinking: true,
    showExtensions: true,
    showCommonExtensions: true,
    validatorUrl: null, // never send the document to swagger.io
    presets: [window.SwaggerUIBundle.presets.apis],
  });
});
