// SPDX-License-Identifier: Apache-2.0
// Signing the dashboard's API requests with the operator's own P-256 key, byte for byte the
// way the hub verifies them (hub/httpsig.c, tls/httpsig.c: RFC 9421, one ecdsa-p256-sha256
// signature over "@method" "@path" ["@query"] "content-digest", with created, keyid, alg
// and a fresh nonce; no "date", which a browser cannot send). The private key becomes a
// non-extractable WebCrypto key; this file keeps nothing and stores nothing.
'use strict';

// eslint-disable-next-line no-unused-vars
const FednsHttpSig = (() => {
  const ALG = 'ecdsa-p256-sha256';
  const LABEL = 'sig1';
  const EC = { name: 'ECDSA', namedCurve: 'P-256' };
  const SIGN = { name: 'ECDSA', hash: 'SHA-256' }; // WebCrypto returns r||s, as RFC 9421 §3.3.4
  const KEY_FILE_MAX = 16384; // a P-256 PEM is under 300 bytes; anything this big is not one
  const enc = new TextEncoder();

  class KeyError extends Error {}

  function b64(bytes) {
    let s = '';
    for (const b of bytes) s += String.fromCharCode(b);
    return btoa(s);
  }

  function base64Url(bytes) {
    return b64(bytes).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  }

  function hex(bytes) {
    return [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');
  }

  async function sha256(bytes) {
    return new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
  }

  // RFC 8941 sf-string, as fedns_httpsig_put_string writes it
  function sfString(s) {
    return '"' + s.replace(/[\\"]/g, (c) => '\\' + c) + '"';
  }

  function derLen(n) {
    if (n < 0x80) return [n];
    if (n < 0x100) return [0x81, n];
    return [0x82, n >> 8, n & 0xff];
  }

  // PKCS#8 PrivateKeyInfo around an RFC 5915 ECPrivateKey (what fednsctl's key tools write
  // as "EC PRIVATE KEY"), since WebCrypto imports only PKCS#8. The algorithm is P-256; a
  // key on another curve then fails the import.
  function pkcs8FromSec1(sec1) {
    const alg = [0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01,
      0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
    const inner = [0x02, 0x01, 0x00, ...alg, 0x04, ...derLen(sec1.length), ...sec1];
    const out = new Uint8Array([0x30, ...derLen(inner.length), ...inner]);
    inner.fill(0);
    return out;
  }

  // The private key's DER from PEM text, as PKCS#8. Explains what else the file holds.
  function privateDer(text) {
    const re = /-----BEGIN ([A-Z0-9 ]+)-----([A-Za-z0-9+/=\s]*)-----END \1-----/g;
    const labels = [];
    for (let m = re.exec(text); m !== null; m = re.exec(text)) {
      const label = m[1];
      labels.push(label);
      if (label !== 'PRIVATE KEY' && label !== 'EC PRIVATE KEY') continue;
      let bin;
      try {
        bin = atob(m[2].replace(/\s+/g, ''));
      } catch (e) {
        throw new KeyError('the ' + label + ' block is not valid base64');
      }
      const der = new Uint8Array(bin.length);
      for (let i = 0; i < bin.length; i++) der[i] = bin.charCodeAt(i);
      if (label === 'PRIVATE KEY') return der;
      const wrapped = pkcs8FromSec1(der);
      der.fill(0);
      return wrapped;
    }
    if (labels.includes('ENCRYPTED PRIVATE KEY') || /Proc-Type: 4,ENCRYPTED/.test(text)) {
      throw new KeyError('the key is encrypted with a passphrase, which this page cannot ' +
        'use; choose an unencrypted PKCS#8 copy (openssl pkcs8 -topk8 -nocrypt)');
    }
    if (labels.includes('PUBLIC KEY') || labels.includes('CERTIFICATE')) {
      throw new KeyError('this file holds a ' + (labels.includes('CERTIFICATE') ? 'certificate' : 'public key') +
        ', not the private key that signs');
    }
    throw new KeyError(labels.length ? 'no private key in this file (it holds ' + labels.join(', ') + ')'
      : 'this is not a PEM key file (no -----BEGIN PRIVATE KEY----- block)');
  }

  function readText(file) {
    return new Promise((resolve, reject) => {
      if (file.size > KEY_FILE_MAX) {
        reject(new KeyError(file.name + ' is ' + file.size + ' bytes, too large for a key file'));
        return;
      }
      const r = new FileReader();
      r.addEventListener('load', () => resolve(String(r.result)));
      r.addEventListener('error', () => reject(new KeyError('cannot read ' + file.name)));
      r.readAsText(file);
    });
  }

  // {key: non-extractable CryptoKey for signing, keyid} from a PEM key file. The key id is
  // tls/sign.h's: base64url of SHA-256 over the public key's SubjectPublicKeyInfo DER; the
  // public key comes from the private one (an extractable copy that lives only for this
  // call and whose scalar is dropped at once).
  async function loadKeyFile(file) {
    let text = await readText(file);
    const der = privateDer(text);
    text = null;
    let pub, key;
    try {
      const tmp = await crypto.subtle.importKey('pkcs8', der, EC, true, ['sign']);
      const jwk = await crypto.subtle.exportKey('jwk', tmp);
      const pubJwk = { kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y };
      jwk.d = '';
      pub = await crypto.subtle.importKey('jwk', pubJwk, EC, true, ['verify']);
      key = await crypto.subtle.importKey('pkcs8', der, EC, false, ['sign']);
    } catch (e) {
      throw new KeyError('the file\'s key is not an ECDSA P-256 private key (' + e.message + ')');
    } finally {
      der.fill(0);
    }
    const spki = new Uint8Array(await crypto.subtle.exportKey('spki', pub));
    return { key, keyid: base64Url(await sha256(spki)), skew: 0 };
  }

  // "@path": the path as sent, percent-decoded the way the hub's router decodes it, then
  // encoded again where RFC 3986 requires it (pchar and "/" stay, uppercase hex).
  function canonicalPath(wire) {
    const bytes = [];
    for (let i = 0; i < wire.length; i++) {
      const esc = wire.slice(i + 1, i + 3);
      if (wire[i] === '%' && /^[0-9A-Fa-f]{2}$/.test(esc)) {
        bytes.push(parseInt(esc, 16));
        i += 2;
      } else {
        bytes.push(...enc.encode(wire[i]));
      }
    }
    if (bytes.length === 0) return '/';
    return bytes.map((b) => {
      const c = String.fromCharCode(b);
      return b < 0x80 && /[A-Za-z0-9\-._~!$&'()*+,;=:@/]/.test(c) ? c
        : '%' + b.toString(16).toUpperCase().padStart(2, '0');
    }).join('');
  }

  // The headers that sign one request: url as fetch will send it, body the exact bytes.
  async function signRequest(cred, method, url, body) {
    const u = new URL(url, location.href);
    const digest = 'sha-256=:' + b64(await sha256(body)) + ':';
    const comps = [['@method', method.toUpperCase()], ['@path', canonicalPath(u.pathname)]];
    if (u.search.length > 1) comps.push(['@query', u.search]); // the hub: "?" and the raw query
    comps.push(['content-digest', digest]);
    const nonce = base64Url(crypto.getRandomValues(new Uint8Array(18)));
    const params = '(' + comps.map(([n]) => sfString(n)).join(' ') + ')' +
      ';created=' + (Math.floor(Date.now() / 1000) + cred.skew) + ';keyid=' + sfString(cred.keyid) +
      ';alg=' + sfString(ALG) + ';nonce=' + sfString(nonce);
    const base = comps.map(([n, v]) => sfString(n) + ': ' + v + '\n').join('') +
      '"@signature-params": ' + params;
    const sig = new Uint8Array(await crypto.subtle.sign(SIGN, cred.key, enc.encode(base)));
    return {
      'Content-Digest': digest,
      'Signature-Input': LABEL + '=' + params,
      Signature: LABEL + '=:' + b64(sig) + ':',
    };
  }

  // The hub refuses a created time more than 300 s from its clock and says its time; a
  // signer whose computer's clock is off then signs with the hub's time (cred.skew, in
  // seconds). Returns whether the refusal was that one.
  function adoptHubTime(cred, message) {
    const m = /created (\d+) is more than \d+ s from the hub's time (\d+)/.exec(message);
    if (!m) return false;
    cred.skew = Number(m[2]) - (Number(m[1]) - cred.skew);
    return true;
  }

  // An approval's change_signature (DESIGN.md §7, as fednsctl change approve --sign-key):
  // base64 r||s over "fedns-approve-v1\n<id>\n<SHA-256 hex of the diff lines, each with
  // a newline>\n", the diff as GET /api/v1/changes/{id} shows it.
  async function signApproval(cred, change) {
    const diff = (change.diff || []).map((l) => l + '\n').join('');
    const text = 'fedns-approve-v1\n' + change.id + '\n' + hex(await sha256(enc.encode(diff))) + '\n';
    return b64(new Uint8Array(await crypto.subtle.sign(SIGN, cred.key, enc.encode(text))));
  }

  return Object.freeze({ KeyError, loadKeyFile, signRequest, signApproval, canonicalPath, adoptHubTime });
})();
