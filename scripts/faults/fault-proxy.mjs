// An HTTP fault proxy (node:http only) for the fault-injection suite: put it between the sync
// and cognito-local (or the schema registry) and switch faults on and off while traffic flows.
//
//   import { startFaultProxy } from '../../scripts/faults/fault-proxy.mjs';
//   const proxy = await startFaultProxy({ target: 'http://127.0.0.1:9229', flavor: 'aws-json' });
//   proxy.setFault({ kind: 'throttle' });  ...  proxy.setFault(null);
//
// Standalone, for poking at a running sync by hand:
//   node scripts/faults/fault-proxy.mjs --target http://127.0.0.1:9229 --port 9230 [--flavor aws-json|plain]
//   curl -XPOST localhost:9230/__fault -d '{"kind":"throttle"}'   curl -XDELETE localhost:9230/__fault
//   curl localhost:9230/__stats
//
// Fault kinds (each request is judged when it arrives; `probability` and `match` narrow it):
//   throttle       400 + __type TooManyRequestsException (the AWS JSON 1.1 error encoding: the SDK
//                  reads the code from `__type`, or the x-amzn-ErrorType header, and strips any
//                  "namespace#" prefix; cognito-local itself answers its errors the same way)
//   error500       500 + __type InternalErrorException (a modelled Cognito server error)
//   error503       503 with a non-JSON body, as a load balancer in front of a service sends it
//   reject         400 + __type `code` (default InvalidParameterException): a non-retriable refusal
//   timeout        the request is held unanswered and never forwarded (black hole)
//   drop-response  forwarded and executed upstream, but the answer never comes back
//   delay          forwarded after `delayMs`
//   refuse         the listener is closed and open connections destroyed: ECONNREFUSED until healed
//
// Strict mode (`strict: true`, `--strict`; aws-json only): requests no fault took are judged by
// the Cognito rules cognito-local skips (strict-cognito.mjs) before they are forwarded.
//
// Import-jobs mode (`importJobs: true | { ...options }`, `--import-jobs`; aws-json only): the
// user import job API (GetCSVHeader, CreateUserImportJob, the pre-signed upload, Start/Stop/
// Describe/ListUserImportJobs) answered by the proxy, users created in the emulator behind it
// (import-jobs.mjs). Faults apply to those calls as to any other; not to the upload.
import { createServer, request as httpRequest, Agent } from 'node:http';
import { pathToFileURL } from 'node:url';
import { createImportJobs } from './import-jobs.mjs';
import { createStrictRules } from './strict-cognito.mjs';

const AWS_JSON = 'application/x-amz-json-1.1';

/** The AWS JSON 1.1 error response for `code`. */
function awsError(res, status, code, message) {
  res.writeHead(status, {
    'content-type': AWS_JSON,
    'x-amzn-errortype': `${code}:`,
    'x-amzn-requestid': `fault-${Date.now()}`,
  });
  res.end(JSON.stringify({ __type: code, message }));
}

function plainError(res, status, message) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ error_code: status * 100 + 1, message }));
}

/** The operation a request is for: the AWS target (x-amz-target "Service.Operation") or "METHOD /path". */
export function operationOf(headers, method, url) {
  const target = headers['x-amz-target'];
  if (typeof target === 'string' && target.includes('.')) return target.slice(target.lastIndexOf('.') + 1);
  return `${method} ${(url ?? '/').split('?')[0]}`;
}

/**
 * @param {{ target: string, port?: number, host?: string, flavor?: 'aws-json' | 'plain', strict?: boolean,
 *   keepBodies?: boolean, importJobs?: boolean | object }} options
 */
export async function startFaultProxy(options) {
  const targetUrl = new URL(options.target);
  const host = options.host ?? '127.0.0.1';
  const flavor = options.flavor ?? 'aws-json';
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const sockets = new Set();
  const held = new Set(); // responses kept unanswered (timeout, drop-response)
  let fault = null;
  let healTimer;
  let listening = false;
  let port = options.port ?? 0;

  const state = {
    /** One entry per request received: arrival time (ms since epoch), operation, what happened. */
    // counts: requests by what the proxy did (forwarded or the fault kind) when they arrived
    requests: [],
    inFlight: 0,
    counts: {},
  };

  const count = (what) => (state.counts[what] = (state.counts[what] ?? 0) + 1);

  /** One AWS JSON call to the emulator behind the proxy (strict and import-jobs modes read and write through it). */
  const upstreamCall = async (op, payload) => {
    const response = await fetch(targetUrl, {
      method: 'POST',
      headers: {
        'content-type': AWS_JSON,
        'x-amz-target': `AWSCognitoIdentityProviderService.${op}`,
        authorization: 'AWS4-HMAC-SHA256 Credential=local/20200101/us-east-1/cognito-idp/aws4_request',
      },
      body: JSON.stringify(payload),
    });
    const text = await response.text();
    return { status: response.status, json: text === '' ? {} : JSON.parse(text) };
  };

  // ---- strict mode (see strict-cognito.mjs): its own section, so fault changes rebase cleanly
  const strict = options.strict === true && flavor === 'aws-json' ? createStrictRules(upstreamCall) : undefined;
  state.strict = strict?.counts;
  /** Forwards through the strict rules: a refusal is answered here, the rest goes on. */
  const strictForward = (req, res, body, info, send) => {
    let payload;
    try {
      payload = JSON.parse(body.toString('utf8') || '{}');
    } catch {
      return send();
    }
    strict
      .run(
        info.op,
        payload,
        (rewritten) =>
          new Promise((resolve) => {
            res.on('close', () => resolve({ status: info.status || 502 })); // an upstream error ends it too
            send(resolve, rewritten === undefined ? undefined : Buffer.from(JSON.stringify(rewritten)));
          }),
      )
      .then((answer) => {
        if (answer?.code === undefined) return answer?.reply?.(); // after the rules' own follow-up writes
        info.outcome = 'strict-refused';
        info.status = answer.status;
        count(info.outcome);
        if (!res.destroyed) awsError(res, answer.status, answer.code, answer.message);
      })
      .catch((error) => {
        info.outcome = 'strict-error';
        count(info.outcome);
        if (!res.headersSent && !res.destroyed) awsError(res, 500, 'InternalErrorException', String(error));
      });
  };
  // ---- end of strict mode

  // ---- import-jobs mode (see import-jobs.mjs)
  const importJobs =
    options.importJobs && flavor === 'aws-json'
      ? createImportJobs({
          upstream: upstreamCall,
          strict,
          baseUrl: () => `http://${host}:${port}`,
          options: options.importJobs === true ? {} : options.importJobs,
        })
      : undefined;
  state.importJobs = importJobs?.counts;
  /** An import-job API call, answered here. */
  const answerImport = (res, body, info) => {
    let payload;
    try {
      payload = JSON.parse(body.toString('utf8') || '{}');
    } catch {
      info.status = 400;
      return awsError(res, 400, 'SerializationException', 'The request body is not JSON.');
    }
    importJobs
      .answer(info.op, payload)
      .then((answer) => {
        info.status = answer.status;
        if (res.destroyed) return;
        if (answer.code !== undefined) return awsError(res, answer.status, answer.code, answer.message);
        const out = Buffer.from(JSON.stringify(answer.json));
        res.writeHead(200, {
          'content-type': AWS_JSON,
          'content-length': String(out.length),
          'x-amzn-requestid': `import-${Date.now()}`,
        });
        res.end(out);
      })
      .catch((error) => {
        info.outcome = 'import-error';
        count(info.outcome);
        if (!res.headersSent && !res.destroyed) awsError(res, 500, 'InternalErrorException', String(error));
      });
  };
  // ---- end of import-jobs mode

  const applies = (f, info) => {
    if (!f) return false;
    if (f.match && !f.match(info)) return false;
    if (f.probability !== undefined && Math.random() >= f.probability) return false;
    return true;
  };

  const forward = (req, res, body, info, onResponse) => {
    const headers = { ...req.headers, host: targetUrl.host };
    // Strict mode may forward a rewritten body (the stored username): its own length.
    if (headers['content-length'] !== undefined) headers['content-length'] = String(body.length);
    const upstream = httpRequest(
      {
        protocol: targetUrl.protocol,
        hostname: targetUrl.hostname,
        port: targetUrl.port,
        method: req.method,
        path: req.url,
        headers,
        agent,
      },
      (up) => {
        const chunks = [];
        up.on('data', (c) => chunks.push(c));
        up.on('end', () => onResponse(up.statusCode ?? 502, up.headers, Buffer.concat(chunks)));
        up.on('error', () => onResponse(502, {}, Buffer.from('upstream error')));
      },
    );
    upstream.on('error', (error) => {
      info.outcome = 'upstream-error';
      count(info.outcome);
      if (!res.headersSent && !res.destroyed) {
        if (flavor === 'aws-json')
          awsError(res, 502, 'InternalErrorException', `fault proxy: upstream ${error.code ?? error.message}`);
        else plainError(res, 502, `fault proxy: upstream ${error.code ?? error.message}`);
      }
    });
    upstream.end(body);
  };

  const handle = (req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      if (req.url?.startsWith('/__fault') || req.url?.startsWith('/__stats')) return control(req, res, body);
      if (importJobs?.serves(req.url ?? '')) return importJobs.http(req, res, body);
      const info = {
        t: Date.now(),
        op: operationOf(req.headers, req.method, req.url),
        outcome: 'forwarded',
        status: 0,
        body: body.toString('utf8'),
      };
      state.requests.push(info);
      state.inFlight++;
      let finished = false;
      const done = () => {
        if (finished) return;
        finished = true;
        state.inFlight--;
        if (!options.keepBodies) delete info.body; // keep memory flat over long runs
      };
      res.on('close', done);
      res.on('finish', done);
      const f = applies(fault, info) ? fault : null;
      const kind = f?.kind;
      if (kind && kind !== 'delay') info.outcome = kind;
      count(info.outcome);
      switch (kind) {
        case 'throttle':
          info.status = 400;
          return flavor === 'aws-json'
            ? awsError(res, 400, 'TooManyRequestsException', 'Rate exceeded')
            : plainError(res, 429, 'Too many requests');
        case 'error500':
          info.status = 500;
          return flavor === 'aws-json'
            ? awsError(res, 500, 'InternalErrorException', 'Internal error (fault proxy)')
            : plainError(res, 500, 'Internal error (fault proxy)');
        case 'error503':
          info.status = 503;
          res.writeHead(503, { 'content-type': 'text/html' });
          return res.end('<html><body><h1>503 Service Temporarily Unavailable</h1></body></html>');
        case 'reject':
          info.status = 400;
          return flavor === 'aws-json'
            ? awsError(res, 400, f.code ?? 'InvalidParameterException', f.message ?? 'Rejected (fault proxy)')
            : plainError(res, 400, 'Rejected (fault proxy)');
        case 'timeout':
          held.add(res);
          res.on('close', () => held.delete(res));
          return;
        case 'drop-response':
          return forward(req, res, body, info, (status) => {
            info.status = status;
            if (res.destroyed) return;
            held.add(res);
            res.on('close', () => held.delete(res));
          });
        default: {
          const reply = (status, headers, payload) => {
            if (res.destroyed) return;
            const out = { ...headers };
            delete out['transfer-encoding'];
            delete out.connection;
            out['content-length'] = String(payload.length);
            res.writeHead(status, out);
            res.end(payload);
          };
          // `answered` (strict mode) gets the upstream answer to send when its rules are done.
          const send = (answered, rewritten) =>
            forward(req, res, rewritten ?? body, info, (status, headers, answer) => {
              info.status = status;
              // Import-jobs mode: users imported without a password read RESET_REQUIRED.
              const payload =
                status === 200 && importJobs?.presents(info.op) ? importJobs.present(info.op, body, answer) : answer;
              if (answered) answered({ status, reply: () => reply(status, headers, payload) });
              else reply(status, headers, payload);
            });
          const judged = (payload) =>
            strict?.judges(info.op) ? strictForward(req, res, payload, info, send) : send(undefined, payload);
          const go = () => {
            if (importJobs?.answers(info.op)) return answerImport(res, body, info);
            if (!importJobs?.rewrites(info.op)) return judged(body);
            // A sign-in of a hash-imported user: the proxy checks the password against the hash.
            let payload;
            try {
              payload = JSON.parse(body.toString('utf8') || '{}');
            } catch {
              return judged(body);
            }
            importJobs.rewrite(info.op, payload).then(
              (rewritten) => {
                if (rewritten?.code === undefined)
                  return judged(rewritten === undefined ? body : Buffer.from(JSON.stringify(rewritten)));
                info.outcome = 'import-answered';
                info.status = rewritten.status;
                if (!res.destroyed) awsError(res, rewritten.status, rewritten.code, rewritten.message);
              },
              () => judged(body),
            );
          };
          if (kind === 'delay') setTimeout(go, f.delayMs ?? 100);
          else go();
        }
      }
    });
  };

  const control = (req, res, body) => {
    if (req.url.startsWith('/__stats')) {
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end(
        JSON.stringify({
          fault,
          inFlight: state.inFlight,
          counts: state.counts,
          requests: state.requests.length,
          strict: state.strict,
          importJobs: state.importJobs,
        }),
      );
    }
    if (req.method === 'DELETE') proxy.setFault(null);
    else proxy.setFault(JSON.parse(body.toString('utf8') || '{}'));
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ fault }));
  };

  const server = createServer(handle);
  server.keepAliveTimeout = 5000;
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  const listen = () =>
    new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        port = server.address().port;
        listening = true;
        resolve();
      });
    });
  const unlisten = () =>
    new Promise((resolve) => {
      if (!listening) return resolve();
      listening = false;
      server.close(() => resolve());
      for (const s of sockets) s.destroy();
    });
  const releaseHeld = () => {
    for (const res of held) res.destroy();
    held.clear();
  };

  await listen();

  const proxy = {
    get url() {
      return `http://${host}:${port}`;
    },
    get port() {
      return port;
    },
    get fault() {
      return fault;
    },
    state,
    /**
     * Switch to a fault (null: healthy). Requests held by timeout/drop-response stay unanswered
     * after healing too, as behind a network black hole (no RST ever comes): only the client's
     * own timeout ends them (or close()).
     * `durationMs` heals by itself (the only way out of `refuse` for the standalone proxy).
     */
    async setFault(next) {
      fault = next ?? null;
      clearTimeout(healTimer);
      if (fault?.kind === 'refuse') await unlisten();
      else if (!listening) await listen();
      if (fault?.durationMs) healTimer = setTimeout(() => void proxy.setFault(null), fault.durationMs);
    },
    async close() {
      clearTimeout(healTimer);
      importJobs?.close();
      releaseHeld();
      await unlisten();
      agent.destroy();
    },
  };
  return proxy;
}

// ---- standalone use
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const args = process.argv.slice(2);
  const arg = (name, fallback) => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 ? args[i + 1] : fallback;
  };
  const target = arg('target');
  if (!target) {
    console.error(
      'usage: fault-proxy.mjs --target URL [--port N] [--flavor aws-json|plain] [--strict] [--import-jobs]',
    );
    process.exit(2);
  }
  const proxy = await startFaultProxy({
    target,
    port: Number(arg('port', '0')),
    flavor: arg('flavor', 'aws-json'),
    strict: args.includes('--strict'),
    importJobs: args.includes('--import-jobs'),
  });
  const modes = ['strict', 'import-jobs'].filter((m) => args.includes(`--${m}`));
  console.log(
    `fault proxy${modes.length > 0 ? ` (${modes.join(', ')})` : ''} ${proxy.url} -> ${target} (POST/DELETE ${proxy.url}/__fault, GET ${proxy.url}/__stats)`,
  );
  const stop = () => void proxy.close().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
