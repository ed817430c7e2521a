// Small network probes that tests and the CLI run inside lab hosts (`node probes.mjs MODE …`),
// each printing one JSON line: a TCP echo server, TCP round trips, a TCP byte sink and sender
// (throughput), UDP datagrams counted at a sink (loss), and a connect attempt (partitions).
import { createServer, connect } from 'node:net';
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';

const [mode, ...args] = process.argv.slice(2);
const print = (value) => process.stdout.write(`${JSON.stringify(value)}\n`);

/** Datagrams this network namespace dropped because a socket's receive buffer was full. */
function udpReceiveBufferErrors() {
  const [names, values] = readFileSync('/proc/net/snmp', 'utf8').split('\n').filter((line) => line.startsWith('Udp:'));
  const index = names.split(/\s+/).indexOf('RcvbufErrors');
  return Number(values.split(/\s+/)[index]);
}

function listening(server, port) {
  server.listen(Number(port), '0.0.0.0', () => print({ listening: Number(port) }));
}

if (mode === 'echo-server') {
  listening(createServer((socket) => socket.pipe(socket)), args[0]);
} else if (mode === 'rtt') {
  const [host, port, count] = args;
  const socket = connect({ host, port: Number(port), noDelay: true }, async () => {
    const samples = [];
    for (let i = 0; i < Number(count); i++) {
      const start = process.hrtime.bigint();
      await new Promise((resolve) => {
        socket.once('data', resolve);
        socket.write('x');
      });
      samples.push(Number(process.hrtime.bigint() - start) / 1e6);
    }
    socket.end();
    print({ rttMs: samples });
  });
} else if (mode === 'sink') {
  listening(
    createServer((socket) => {
      let bytes = 0;
      let first;
      socket.on('data', (chunk) => {
        first ??= process.hrtime.bigint();
        bytes += chunk.length;
      });
      socket.on('end', () => {
        print({ bytes, seconds: Number(process.hrtime.bigint() - first) / 1e9 });
        socket.end();
      });
    }),
    args[0],
  );
} else if (mode === 'send') {
  const [host, port, bytes] = args;
  const socket = connect({ host, port: Number(port) }, () => {
    const chunk = Buffer.alloc(64 * 1024, 7);
    let left = Number(bytes);
    const pump = () => {
      while (left > 0) {
        const size = Math.min(left, chunk.length);
        left -= size;
        if (!socket.write(chunk.subarray(0, size))) return socket.once('drain', pump);
      }
      socket.end();
    };
    pump();
  });
  socket.on('close', () => print({ sent: Number(bytes) }));
} else if (mode === 'udp-sink') {
  // A receiver the machine leaves unscheduled for a while drops datagrams in its own full socket
  // buffer: the link did not lose those. Counted apart (this namespace's Udp RcvbufErrors), with
  // a larger buffer asked for to make them rare.
  const socket = createSocket({ type: 'udp4', recvBufferSize: 4 * 1024 * 1024 });
  const seen = new Set();
  const bufferDropsAtStart = udpReceiveBufferErrors();
  socket.on('message', (message) => {
    const text = message.toString();
    if (text === 'done') {
      print({ received: seen.size, droppedByReceiver: udpReceiveBufferErrors() - bufferDropsAtStart });
      socket.close();
    } else seen.add(text);
  });
  socket.bind(Number(args[0]), '0.0.0.0', () => print({ listening: Number(args[0]) }));
} else if (mode === 'udp-send') {
  const [host, port, count] = args;
  const socket = createSocket('udp4');
  const send = (text) => new Promise((resolve, reject) => socket.send(text, Number(port), host, (error) => (error ? reject(error) : resolve())));
  for (let i = 0; i < Number(count); i++) {
    await send(String(i));
    // Paced (about 2,000 a second): the delay line is a userspace process, and on a busy machine a
    // faster burst overflows its device queue, which would count as loss the link was not set to.
    if (i % 10 === 9) await new Promise((resolve) => setTimeout(resolve, 5));
  }
  // The end marker goes several times: it crosses the same lossy link.
  for (let i = 0; i < 20; i++) {
    await send('done');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  print({ sent: Number(count) });
  socket.close();
} else if (mode === 'connect') {
  const [host, port, timeoutMs] = args;
  const start = Date.now();
  const socket = connect({ host, port: Number(port) });
  const timer = setTimeout(() => {
    print({ outcome: 'timeout', ms: Date.now() - start });
    socket.destroy();
  }, Number(timeoutMs));
  socket.on('connect', () => {
    clearTimeout(timer);
    print({ outcome: 'connected', ms: Date.now() - start });
    socket.destroy();
  });
  socket.on('error', (error) => {
    clearTimeout(timer);
    print({ outcome: 'error', code: error.code, ms: Date.now() - start });
  });
} else {
  process.stderr.write(`probes.mjs: unknown mode "${mode}"\n`);
  process.exit(2);
}
