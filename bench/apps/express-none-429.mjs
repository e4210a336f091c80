// Express 5 without a limiter, answering GET /d as our limiter answers a denial (status, headers,
// problem body as constants): the baseline of the Express denied rows.
import express from 'express';
import { announce, DENIAL, HOST, PATHS, PORT } from './shared.mjs';

const app = express();
app.get(PATHS.denied.route, (_req, res) => {
  // Written directly, as our adapter writes a denial (res.send would add an ETag).
  res.statusCode = DENIAL.status;
  for (const [name, value] of Object.entries(DENIAL.headers)) res.setHeader(name, value);
  res.setHeader('Content-Type', DENIAL.contentType);
  res.setHeader('Content-Length', Buffer.byteLength(DENIAL.body));
  res.end(DENIAL.body);
});
const server = app.listen(PORT, HOST, () => announce(server));
