"""sigstore-python's own Fulcio client against a sigbox CA (run by tests/fulcio/mod.rs).

Usage: python sigstore_python_client.py FULCIO_URL TOKEN CT_KEY_PEM_FILE

Requests a certificate the way `sigstore sign` does (CSR with an empty subject and a
critical CA:false, token in the Authorization header), then checks the answer with the
same library code sigstore-python runs at signing and verification time: the embedded SCT
against the CT key (sigstore._internal.sct.verify_sct) and the chain with pyca's WebPKI
client verifier and sigstore-python's extension policies. Prints a JSON summary.
"""

import base64
import json
import sys
from datetime import datetime, timezone

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509 import ExtendedKeyUsage
from cryptography.x509.oid import ExtendedKeyUsageOID
from cryptography.x509.verification import (
    Criticality,
    ExtensionPolicy,
    PolicyBuilder,
    Store,
)
from sigstore._internal.fulcio.client import FulcioClient
from sigstore._internal.sct import verify_sct
from sigstore._internal.trust import Keyring
from sigstore.oidc import IdentityToken
from sigstore_models.common.v1 import PublicKey, PublicKeyDetails


def main() -> None:
    url, token, ct_key_path = sys.argv[1:4]
    key = ec.generate_private_key(ec.SECP256R1())
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([]))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    identity = IdentityToken(token)
    response = FulcioClient(url).signing_cert.post(csr, identity)

    with open(ct_key_path, "rb") as f:
        ct_key = serialization.load_pem_public_key(f.read())
    ct_der = ct_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    keyring = Keyring(
        [
            PublicKey(
                # sigstore_models takes proto bytes as base64, as in the JSON form.
                raw_bytes=base64.b64encode(ct_der),
                key_details=PublicKeyDetails.PKIX_ECDSA_P256_SHA_256,
            )
        ]
    )
    verify_sct(response.cert, response.chain, keyring)

    ca_policy = ExtensionPolicy.webpki_defaults_ca().may_be_present(
        ExtendedKeyUsage, Criticality.NON_CRITICAL, None
    )
    ee_policy = ExtensionPolicy.webpki_defaults_ee().may_be_present(
        ExtendedKeyUsage, Criticality.NON_CRITICAL, None
    )
    verifier = (
        PolicyBuilder()
        .store(Store(response.chain))
        .time(datetime.now(timezone.utc))
        .extension_policies(ca_policy=ca_policy, ee_policy=ee_policy)
        .build_client_verifier()
    )
    verified = verifier.verify(response.cert, [])
    eku = response.cert.extensions.get_extension_for_class(ExtendedKeyUsage).value
    issuer_raw = response.cert.extensions.get_extension_for_oid(
        x509.ObjectIdentifier("1.3.6.1.4.1.57264.1.1")
    ).value.value
    print(
        json.dumps(
            {
                "identity": identity.identity,
                "issuer": identity.issuer,
                "chain_length": len(verified.chain),
                "code_signing": ExtendedKeyUsageOID.CODE_SIGNING in eku,
                "issuer_extension": issuer_raw.decode(),
                "public_key_matches": response.cert.public_key() == key.public_key(),
            }
        )
    )


if __name__ == "__main__":
    main()
