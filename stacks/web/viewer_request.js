// CloudFront Functions (JavaScript runtime 2.0), viewer request of the application's files.
// A deep link of the single-page application (a path whose last segment has no file extension,
// such as /dossiers/42) is served index.html, which the application's router reads; a path with
// an extension is a file and keeps its own answer (a 404 stays a 404). The API's paths never
// reach this function: their behaviours go to API Gateway.
function handler(event) {
  var request = event.request;
  var last = request.uri.substring(request.uri.lastIndexOf("/") + 1);
  if (last.indexOf(".") === -1) {
    request.uri = "/index.html";
  }
  return request;
}
