// RedisStore through node-redis 6 (`redis` 6): the RedisStore suites, on the standalone Redis and on the Cluster.
import { clientKind } from '../../support/clients';
import { runRedisClusterSuite } from '../redis-cluster-suite';
import { runRedisStoreSuite } from '../redis-store-suite';

const kind = clientKind('node-redis 6');
runRedisStoreSuite(kind);
runRedisClusterSuite(kind);
