// Express 5 without a limiter: the baseline of the Express rows. Loads Express and nothing else.
import express from 'express';
import { announce, BODY, HOST, PATHS, PORT } from './shared.mjs';

const app = express();
for (const { route } of Object.values(PATHS)) {
  app.get(route, (_req, res) => {
    res.json(BODY);
  });
}
const server = app.listen(PORT, HOST, () => announce(server));
