// RedisStore through ioredis 5 (`ioredis`): the RedisStore suites, on the standalone Redis and on the Cluster.
import { clientKind } from '../../support/clients';
import { runRedisClusterSuite } from '../redis-cluster-suite';
import { runRedisStoreSuite } from '../redis-store-suite';

const kind = clientKind('ioredis 5');
runRedisStoreSuite(kind);
runRedisClusterSuite(kind);
