// smtp_sink.mjs: a real SMTP server on loopback for the tests (RFC 5321
// subset): greets, answers EHLO/HELO, MAIL FROM, RCPT TO, DATA (with the
// dot-unstuffing of lines that start with '.'), RSET, NOOP, QUIT, and keeps
// every message it accepted so that a test can read it.
import net from 'node:net';

/** Starts a sink on 127.0.0.1 (port 0: any free one). Returns {port, url, messages, close()}. */
export async function startSmtpSink({ port = 0 } = {}) {
    const messages = []; // {from, to: [...], data (string, CRLF), raw (Buffer)}
    const server = net.createServer((sock) => {
        let buf = Buffer.alloc(0);
        let inData = false;
        let from = null;
        let to = [];
        let lines = [];
        const reply = (s) => sock.write(s + '\r\n');
        reply('220 sink.test ESMTP ready');
        sock.on('data', (chunk) => {
            buf = Buffer.concat([buf, chunk]);
            let i;
            while ((i = buf.indexOf('\r\n')) >= 0) {
                const line = buf.subarray(0, i);
                buf = buf.subarray(i + 2);
                if (inData) {
                    const text = line.toString('latin1');
                    if (text === '.') {
                        const raw = Buffer.concat(lines.flatMap((l) => [l, Buffer.from('\r\n')]));
                        messages.push({ from, to, raw, data: raw.toString('utf8') });
                        inData = false;
                        from = null;
                        to = [];
                        lines = [];
                        reply('250 2.0.0 queued');
                    } else {
                        lines.push(text.startsWith('.') ? line.subarray(1) : line);
                    }
                    continue;
                }
                const cmd = line.toString('utf8');
                const verb = cmd.slice(0, 4).toUpperCase();
                if (verb === 'EHLO') {
                    sock.write('250-sink.test\r\n250-8BITMIME\r\n250 SIZE 10485760\r\n');
                } else if (verb === 'HELO') {
                    reply('250 sink.test');
                } else if (/^MAIL FROM:/i.test(cmd)) {
                    from = /<([^>]*)>/.exec(cmd)?.[1] ?? '';
                    reply('250 2.1.0 ok');
                } else if (/^RCPT TO:/i.test(cmd)) {
                    if (from === null) {
                        reply('503 5.5.1 need MAIL first');
                    } else {
                        to.push(/<([^>]*)>/.exec(cmd)?.[1] ?? '');
                        reply('250 2.1.5 ok');
                    }
                } else if (verb === 'DATA') {
                    if (!to.length) {
                        reply('503 5.5.1 need RCPT first');
                    } else {
                        inData = true;
                        reply('354 end with <CRLF>.<CRLF>');
                    }
                } else if (verb === 'RSET') {
                    from = null;
                    to = [];
                    reply('250 ok');
                } else if (verb === 'NOOP') {
                    reply('250 ok');
                } else if (verb === 'QUIT') {
                    reply('221 bye');
                    sock.end();
                } else {
                    reply('502 5.5.2 not implemented');
                }
            }
        });
        sock.on('error', () => {});
    });
    await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
    const p = server.address().port;
    return {
        port: p,
        url: `smtp://127.0.0.1:${p}`,
        messages,
        close: () => new Promise((resolve) => server.close(resolve)),
    };
}

/** Splits a message into {headers: {lower-case name: unfolded value}, body (decoded text)}. */
export function parseMessage(data) {
    const cut = data.indexOf('\r\n\r\n');
    const head = data.slice(0, cut).replace(/\r\n[ \t]/g, ' ');
    const headers = {};
    for (const line of head.split('\r\n')) {
        const i = line.indexOf(':');
        headers[line.slice(0, i).toLowerCase()] = line.slice(i + 1).trim();
    }
    let body = data.slice(cut + 4);
    if ((headers['content-transfer-encoding'] || '').toLowerCase() === 'base64') {
        body = Buffer.from(body.replace(/\r\n/g, ''), 'base64').toString('utf8');
    }
    return { headers, body };
}

/** Decodes RFC 2047 encoded-words (UTF-8, B or Q) in a header value. */
export function decodeWords(v) {
    return v.replace(/=\?UTF-8\?([BQ])\?([^?]*)\?=\s*/gi, (_, enc, text) =>
        enc.toUpperCase() === 'B'
            ? Buffer.from(text, 'base64').toString('utf8')
            : Buffer.from(text.replace(/_/g, ' ').replace(/=([0-9A-F]{2})/gi, (m, h) => String.fromCharCode(parseInt(h, 16))), 'latin1').toString('utf8'))
        .trim();
}
