import { createServer, type Server } from "node:http";

/** The cache port stand-in: what runners reach on the node. Independent of the implementation under test. */
export const UP_PORT = 8080;

export function serveUp(port = UP_PORT, host = "0.0.0.0"): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.url === "/up") {
      res.writeHead(200, { "content-type": "text/plain", connection: "close" });
      res.end("up\n");
    } else {
      res.writeHead(404, { connection: "close" });
      res.end();
    }
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve(server));
  });
}
