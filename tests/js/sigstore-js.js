// sigstore-js as an independent client for sigbox's interop tests.
//
//   node sigstore-js.js sign   TRUST_CONFIG TOKEN FILE BUNDLE_OUT
//   node sigstore-js.js attest TRUST_CONFIG TOKEN STATEMENT_FILE BUNDLE_OUT
//   node sigstore-js.js verify TRUST_CONFIG BUNDLE IDENTITY ISSUER [FILE]
//
// Signing uses the `sigstore` package with the instance's URLs from the trust config's
// signing config; verification uses `@sigstore/verify` directly with the trust config's
// trusted root, because `sigstore.verify()` always fetches a root over TUF (INTEROP.md).
// Exit 0 on success, 1 on a verification failure (message on stderr), 2 on misuse.
'use strict';

const fs = require('fs');
const sigstore = require('sigstore');
const { Verifier, toSignedEntity, toTrustMaterial } = require('@sigstore/verify');
const { bundleFromJSON } = require('@sigstore/bundle');
const { TrustedRoot } = require('@sigstore/protobuf-specs');

function readTrust(path) {
  const config = JSON.parse(fs.readFileSync(path, 'utf8'));
  return { root: config.trustedRoot, signing: config.signingConfig };
}

// sigstore-js sign() speaks Rekor v1 only, so it takes the v1 log as a v1-only client of
// the signing config does (the config lists a v2 log first).
function urls(signing) {
  const v1 = signing.rekorTlogUrls.find((s) => (s.majorApiVersion || 1) === 1);
  const options = { fulcioURL: signing.caUrls[0].url, rekorURL: v1.url };
  // SIGBOX_JS_TSA=1: also timestamp through the TSA (sigstore-js sends its JSON request to
  // <base>/api/v1/timestamp, so the base is the listed URL without that path).
  if (process.env.SIGBOX_JS_TSA === '1' && signing.tsaUrls && signing.tsaUrls.length > 0) {
    options.tsaServerURL = signing.tsaUrls[0].url.replace(/\/api\/v1\/timestamp$/, '');
  }
  return options;
}

async function main() {
  const [cmd, trustPath, ...rest] = process.argv.slice(2);
  if (!cmd || !trustPath) {
    console.error('usage: sigstore-js.js sign|attest|verify TRUST_CONFIG ...');
    process.exit(2);
  }
  const trust = readTrust(trustPath);
  if (cmd === 'sign' || cmd === 'attest') {
    const [token, input, out] = rest;
    const options = { ...urls(trust.signing), identityToken: token, tlogUpload: true };
    const data = fs.readFileSync(input);
    const bundle = cmd === 'sign'
      ? await sigstore.sign(data, options)
      : await sigstore.attest(data, 'application/vnd.in-toto+json', options);
    fs.writeFileSync(out, JSON.stringify(bundle));
    return;
  }
  if (cmd === 'verify') {
    const [bundlePath, identity, issuer, file] = rest;
    const bundle = bundleFromJSON(JSON.parse(fs.readFileSync(bundlePath, 'utf8')));
    const material = toTrustMaterial(TrustedRoot.fromJSON(trust.root));
    const verifier = new Verifier(material);
    const artifact = file ? fs.readFileSync(file) : undefined;
    const escaped = identity.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    try {
      verifier.verify(toSignedEntity(bundle, artifact), {
        subjectAlternativeName: `^${escaped}$`,
        extensions: { issuer },
      });
    } catch (e) {
      console.error(`verification failed: ${e.message}`);
      process.exit(1);
    }
    console.log('verified');
    return;
  }
  console.error(`unknown command ${cmd}`);
  process.exit(2);
}

main().catch((e) => {
  console.error(`error: ${e && e.stack ? e.stack : e}`);
  process.exit(2);
});
