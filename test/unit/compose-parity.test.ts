// docker-compose.yml describes the stack the native scripts (scripts/stack/) start, for people
// with a Docker engine. Nothing here can run it (no Docker engine on these machines), so this
// test keeps it from drifting: image versions against scripts/stack/pom.xml and lib.sh, the
// broker's and the Connect worker's settings against up.sh, PostgreSQL's replication settings,
// ports and credentials against lib.sh, the connector that connector.sh registers against the
// compose services, and the compose Prometheus' configuration through promtool.
import { describe, expect, test } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import YAML from 'yaml';

const ROOT = resolve(import.meta.dirname, '../..');
const read = (path: string): string => readFileSync(join(ROOT, path), 'utf8');

interface Service {
  image: string;
  command?: string[];
  environment?: Record<string, string | number>;
  ports?: string[];
  volumes?: string[];
}
const composeText = read('docker-compose.yml');
const compose = YAML.parse(composeText) as {
  services: Record<string, Service>;
  configs?: Record<string, { content: string }>;
};
const service = (name: string): Service => {
  const s = compose.services[name];
  if (!s) throw new Error(`docker-compose.yml has no service ${name}`);
  return s;
};
const tagOf = (name: string): string => service(name).image.split(':').pop()!;
const env = (name: string): Record<string, string> =>
  Object.fromEntries(Object.entries(service(name).environment ?? {}).map(([k, v]) => [k, String(v)]));

const pom = read('scripts/stack/pom.xml');
const pomProp = (name: string): string => {
  const m = new RegExp(`<${name.replace(/\./g, '\\.')}>([^<]+)</`).exec(pom);
  if (!m) throw new Error(`pom.xml has no property ${name}`);
  return m[1]!;
};

/** lib.sh's defaults: NAME="${NAME:-value}" and plain NAME="value" assignments, expanded. */
const libText = read('scripts/stack/lib.sh');
const lib: Record<string, string> = {};
for (const m of libText.matchAll(/^([A-Z_]+)="(?:\$\{\1:-([^}]*)\}|([^"$]*))"/gm)) lib[m[1]!] = m[2] ?? m[3] ?? '';
lib.STACK_HOST = /^STACK_HOST=(\S+)/m.exec(libText)![1]!;
const expand = (text: string): string =>
  text.replace(/\$\{?([A-Z_]+)\}?/g, (whole, name: string) => lib[name] ?? whole);

/** A heredoc of up.sh written to a file whose path ends with `fileSuffix`, as key=value pairs. */
function upHeredoc(fileSuffix: string): Record<string, string> {
  const up = read('scripts/stack/up.sh');
  const start = new RegExp(`${fileSuffix.replace(/\./g, '\\.')}"[^\n]*<<EOF\n`).exec(up)?.index ?? -1;
  if (start < 0) throw new Error(`up.sh writes no ${fileSuffix}`);
  const body = up.slice(up.indexOf('\n', start) + 1, up.indexOf('\nEOF\n', start));
  const out: Record<string, string> = {};
  for (const line of body.split('\n')) {
    const m = /^([a-z_.]+)\s*=\s*(.*)$/.exec(line.trim());
    if (m) out[m[1]!] = expand(m[2]!).replace(/^'(.*)'$/, '$1');
  }
  return out;
}

/** Container env -> Kafka/Connect properties (KAFKA_NUM_IO_THREADS -> num.io.threads). */
const propsOf = (environment: Record<string, string>, prefix: RegExp, plain: string[] = []): Record<string, string> =>
  Object.fromEntries(
    Object.entries(environment)
      .filter(([k]) => prefix.test(k) || plain.includes(k))
      .map(([k, v]) => [k.replace(prefix, '').toLowerCase().replace(/_/g, '.'), v]),
  );

const hostPort = (name: string): { host: number; container: number } => {
  const [host, container] = (service(name).ports ?? [])[0]!.replace(/"/g, '').split(':').map(Number);
  return { host: host!, container: container! };
};

describe('docker-compose.yml and the native stack', () => {
  test('image versions are the ones the native stack fetches or installs', () => {
    expect({
      kafka: tagOf('kafka'),
      debezium: tagOf('connect'),
      apicurio: tagOf('registry'),
      postgres: tagOf('postgres'),
      mariadb: tagOf('mariadb'),
      prometheus: tagOf('prometheus').replace(/^v(\d+\.\d+)\.\d+$/, '$1'),
      moto: tagOf('moto'),
    }).toEqual({
      kafka: pomProp('kafka.version'),
      debezium: pomProp('debezium.version'),
      apicurio: pomProp('apicurio.version'),
      postgres: lib.PG_VERSION,
      mariadb: lib.MARIADB_SERIES,
      prometheus: lib.PROMETHEUS_SERIES,
      moto: lib.MOTO_VERSION,
    });
    expect(service('kafka').image).toMatch(/^apache\/kafka:/);
    expect(service('connect').image).toMatch(/^quay\.io\/debezium\/connect:/);
  });

  test("host ports and credentials are lib.sh's", () => {
    expect({
      postgres: hostPort('postgres').host,
      mariadb: hostPort('mariadb').host,
      kafka: hostPort('kafka').host,
      connect: hostPort('connect').host,
      registry: hostPort('registry').host,
      cognito: hostPort('cognito').host,
      prometheus: hostPort('prometheus').host,
      moto: hostPort('moto').host,
    }).toEqual({
      postgres: Number(lib.PG_PORT),
      mariadb: Number(lib.MARIADB_PORT),
      kafka: Number(lib.KAFKA_PORT),
      connect: Number(lib.CONNECT_PORT),
      registry: Number(lib.REGISTRY_PORT),
      cognito: Number(lib.COGNITO_PORT),
      prometheus: Number(lib.PROMETHEUS_PORT),
      moto: Number(lib.MOTO_PORT),
    });
    expect(env('postgres')).toMatchObject({
      POSTGRES_USER: lib.PG_USER,
      POSTGRES_PASSWORD: lib.PG_PASSWORD,
      POSTGRES_DB: lib.PG_DB,
    });
    expect(env('mariadb')).toMatchObject({
      MARIADB_USER: lib.MARIADB_USER,
      MARIADB_PASSWORD: lib.MARIADB_PASSWORD,
      MARIADB_DATABASE: lib.MARIADB_DB,
    });
  });

  test("PostgreSQL's replication settings and MariaDB's character set, time zone and binlog are up.sh's", () => {
    const native = upHeredoc('stack.conf');
    const composePg = Object.fromEntries(
      (service('postgres').command ?? []).filter((a) => a.includes('=')).map((a) => a.split('=') as [string, string]),
    );
    for (const key of ['wal_level', 'max_replication_slots', 'max_wal_senders', 'max_slot_wal_keep_size'])
      expect([key, composePg[key]]).toEqual([key, native[key]]);
    const up = read('scripts/stack/up.sh');
    const command = service('mariadb').command ?? [];
    const reported = command.find((flag) => flag.startsWith('--version='));
    for (const flag of command.filter((f) => f !== reported)) expect(up).toContain(flag);
    // the version the server reports: up.sh's is the installed series', the image's is MARIADB_SERIES
    expect(reported).toBe(`--version=${lib.MARIADB_SERIES}-MariaDB`);
    expect(up).toContain('--version="$reported"');
    expect(up).toContain('local reported="${version:-$MARIADB_SERIES}-MariaDB"');
  });

  test("the broker's settings are up.sh's server.properties (addresses and paths aside)", () => {
    const native = upHeredoc('server.properties');
    // where the broker listens and keeps its data differs in a container by nature
    const located = [
      'listeners',
      'advertised.listeners',
      'listener.security.protocol.map',
      'controller.listener.names',
      'inter.broker.listener.name',
      'controller.quorum.bootstrap.servers',
      'log.dirs',
    ];
    const containerOnly = ['controller.quorum.voters', 'heap.opts']; // the image's way to name the controller; the JVM heap
    const composed = propsOf(env('kafka'), /^KAFKA_/);
    for (const [key, value] of Object.entries(native))
      if (!located.includes(key)) expect([key, composed[key]]).toEqual([key, value]);
    for (const key of Object.keys(composed))
      expect([key, key in native || located.includes(key) || containerOnly.includes(key)]).toEqual([key, true]);
    expect(env('kafka').KAFKA_HEAP_OPTS).toBe(lib.KAFKA_HEAP);
  });

  test("the Connect worker's settings are up.sh's connect-distributed.properties (addresses and paths aside)", () => {
    const native = upHeredoc('connect-distributed.properties');
    const located = [
      'bootstrap.servers',
      'listeners',
      'rest.advertised.host.name',
      'rest.advertised.port',
      'plugin.path',
      'plugin.discovery',
    ];
    const plain = [
      'BOOTSTRAP_SERVERS',
      'GROUP_ID',
      'CONFIG_STORAGE_TOPIC',
      'OFFSET_STORAGE_TOPIC',
      'STATUS_STORAGE_TOPIC',
      'CONFIG_STORAGE_REPLICATION_FACTOR',
      'OFFSET_STORAGE_REPLICATION_FACTOR',
      'STATUS_STORAGE_REPLICATION_FACTOR',
      'KEY_CONVERTER',
      'VALUE_CONVERTER',
    ];
    const composed = propsOf(env('connect'), /^CONNECT_/, plain);
    for (const [key, value] of Object.entries(native))
      if (!located.includes(key)) expect([key, composed[key]]).toEqual([key, value]);
    for (const key of Object.keys(composed)) expect([key, key in native]).toEqual([key, true]);
    expect(env('connect').HEAP_OPTS).toBe(lib.CONNECT_HEAP);
  });

  test('the connector connector.sh registers reaches the compose services with the overrides the header gives', () => {
    const overrides = Object.fromEntries(
      [...composeText.matchAll(/\b(CONNECTOR_[A-Z_]+)=(\S+)/g)].map((m) => [m[1]!, m[2]!]),
    );
    expect(Object.keys(overrides).sort()).toEqual([
      'CONNECTOR_DB_HOST',
      'CONNECTOR_DB_PORT',
      'CONNECTOR_KAFKA_BROKERS',
      'CONNECTOR_MARIADB_HOST',
      'CONNECTOR_MARIADB_PORT',
      'CONNECTOR_REGISTRY_URL',
    ]);
    const node = join(ROOT, 'node_modules/.bin/node');
    expect(existsSync(node)).toBe(true);
    const configOf = (format: string, ...more: string[]): Record<string, string> => {
      const r = spawnSync('bash', [join(ROOT, 'scripts/stack/connector.sh'), 'config', 'legacy', format, ...more], {
        encoding: 'utf8',
        env: { ...process.env, ...overrides },
        timeout: 30_000,
      });
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      return JSON.parse(r.stdout) as Record<string, string>;
    };
    const json = configOf('json');
    expect(compose.services[json['database.hostname']!]).toBe(service('postgres'));
    expect(Number(json['database.port'])).toBe(hostPort('postgres').container);
    expect(json).toMatchObject({
      'database.user': env('postgres').POSTGRES_USER,
      'database.password': env('postgres').POSTGRES_PASSWORD,
      'database.dbname': env('postgres').POSTGRES_DB,
      'topic.creation.default.partitions': env('kafka').KAFKA_NUM_PARTITIONS,
      'connector.class': 'io.debezium.connector.postgresql.PostgresConnector',
    });
    const avro = configOf('avro');
    const registry = new URL(avro['value.converter.apicurio.registry.url']!);
    expect(compose.services[registry.hostname]).toBe(service('registry'));
    expect(Number(registry.port)).toBe(hostPort('registry').container);
    // the Apicurio converter is on the Debezium image's plugin path only when asked for
    expect(avro['value.converter']).toBe('io.apicurio.registry.utils.converter.AvroConverter');
    expect(env('connect').ENABLE_APICURIO_CONVERTERS).toBe('true');
    // MariaDB's binlog through the MySQL connector: the database, and Kafka for its schema history
    const maria = configOf('json', '--source', 'mariadb');
    expect(compose.services[maria['database.hostname']!]).toBe(service('mariadb'));
    expect(Number(maria['database.port'])).toBe(hostPort('mariadb').container);
    expect(maria).toMatchObject({
      'connector.class': 'io.debezium.connector.mysql.MySqlConnector',
      'database.user': env('mariadb').MARIADB_USER,
      'database.password': env('mariadb').MARIADB_PASSWORD,
      'database.include.list': env('mariadb').MARIADB_DATABASE,
    });
    const [historyHost, historyPort] = maria['schema.history.internal.kafka.bootstrap.servers']!.split(':');
    expect(compose.services[historyHost!]).toBe(service('kafka'));
    expect(env('kafka').KAFKA_LISTENERS).toContain(`PLAINTEXT://:${historyPort}`);
    expect(read('scripts/stack/sql/mariadb-compose-grants.sql')).toContain(`'${env('mariadb').MARIADB_USER}'@'%'`);
  });

  test("the compose Prometheus' configuration is valid for promtool, scrapes job cognito-sync and loads ops/alerts.yml", () => {
    const content = compose.configs?.prometheus?.content;
    expect(typeof content).toBe('string');
    const dir = mkdtempSync(join(tmpdir(), 'compose-prom-'));
    try {
      expect(content).toContain('/etc/prometheus/alerts.yml');
      expect(service('prometheus').volumes).toContain('./ops/alerts.yml:/etc/prometheus/alerts.yml:ro');
      writeFileSync(
        join(dir, 'prometheus.yml'),
        content!.replace('/etc/prometheus/alerts.yml', join(ROOT, 'ops/alerts.yml')),
      );
      const promtool = ['/usr/bin/promtool', process.env.PROMTOOL].find((p) => p && existsSync(p));
      if (!promtool)
        throw new Error('promtool not found: run "bash scripts/stack/ensure-prometheus.sh" (npm test does)');
      const r = spawnSync(promtool, ['check', 'config', join(dir, 'prometheus.yml')], { encoding: 'utf8' });
      expect(`${r.stdout}${r.stderr}`).toContain('SUCCESS');
      expect(r.status).toBe(0);
      expect(
        (YAML.parse(content!) as { scrape_configs: { job_name: string }[] }).scrape_configs.map((c) => c.job_name),
      ).toEqual([lib.PROMETHEUS_JOB]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
