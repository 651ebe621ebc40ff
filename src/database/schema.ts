/** Every entity and migration of the gateway's database. */
import { ClientKeyEntity } from '../auth/client-key.entity';
import { CreateClientKeys1795347600000 } from '../auth/create-client-keys.migration';
import { CreateTraces1795347700000 } from '../traces/traces.migration';
import { AddTraceSearch1795347800000 } from './migrations/1795347800000-trace-search';
import { AddTraceRollup1795347900000 } from './migrations/1795347900000-trace-rollup';
import { DropTraceSessionTurnIndex1795348000000 } from './migrations/1795348000000-drop-trace-session-turn-index';
import { AddTraceRollupHour1795348100000 } from './migrations/1795348100000-trace-rollup-hour';
import { AddTraceRollupAll1795348200000 } from './migrations/1795348200000-trace-rollup-all';

export const ENTITIES = [ClientKeyEntity];
export const MIGRATIONS = [
  CreateClientKeys1795347600000,
  CreateTraces1795347700000,
  AddTraceSearch1795347800000,
  AddTraceRollup1795347900000,
  DropTraceSessionTurnIndex1795348000000,
  AddTraceRollupHour1795348100000,
  AddTraceRollupAll1795348200000,
];
