// RedisStore through node-redis 4 (`redis` 4): the RedisStore suites, on the standalone Redis and on the Cluster.
import { clientKind } from '../../support/clients';
import { runRedisClusterSuite } from '../redis-cluster-suite';
import { runRedisStoreSuite } from '../redis-store-suite';

const kind = clientKind('node-redis 4');
runRedisStoreSuite(kind);
runRedisClusterSuite(kind);
