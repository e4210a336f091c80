// RedisStore through node-redis 5 (`redis` 5): the RedisStore suites, on the standalone Redis and on the Cluster.
import { clientKind } from '../../support/clients';
import { runRedisClusterSuite } from '../redis-cluster-suite';
import { runRedisStoreSuite } from '../redis-store-suite';

const kind = clientKind('node-redis 5');
runRedisStoreSuite(kind);
runRedisClusterSuite(kind);
