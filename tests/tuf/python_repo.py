"""A TUF repository written by python-tuf's metadata API (tuf.api.metadata), for sigbox's
client to refresh: ECDSA root/targets keys, an Ed25519 snapshot/timestamp key, consistent
snapshots, and the two Sigstore targets copied from the files given.

usage: python_repo.py OUT_DIR TRUSTED_ROOT SIGNING_CONFIG
"""

import hashlib
import os
import sys
from datetime import datetime, timedelta, timezone

from securesystemslib.signer import CryptoSigner
from tuf.api.metadata import (
    Metadata,
    MetaFile,
    Root,
    Snapshot,
    TargetFile,
    Targets,
    Timestamp,
)
from tuf.api.serialization.json import JSONSerializer

out, trusted_root, signing_config = sys.argv[1], sys.argv[2], sys.argv[3]
os.makedirs(os.path.join(out, "targets"), exist_ok=True)
expiry = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(days=7)

ecdsa = CryptoSigner.generate_ecdsa()
ed25519 = CryptoSigner.generate_ed25519()
signers = {"root": ecdsa, "targets": ecdsa, "snapshot": ed25519, "timestamp": ed25519}

root = Root(expires=expiry, consistent_snapshot=True)
for role, signer in signers.items():
    root.add_key(signer.public_key, role)

targets = Targets(expires=expiry)
for name, path in [("trusted_root.json", trusted_root), ("signing_config.v0.2.json", signing_config)]:
    data = open(path, "rb").read()
    digest = hashlib.sha256(data).hexdigest()
    with open(os.path.join(out, "targets", f"{digest}.{name}"), "wb") as f:
        f.write(data)
    targets.targets[name] = TargetFile.from_data(name, data, ["sha256"])

serializer = JSONSerializer(compact=False)


def write(md, role, name):
    md.sign(signers[role])
    data = md.to_bytes(serializer)
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)
    return data


write(Metadata(root), "root", "1.root.json")
targets_bytes = write(Metadata(targets), "targets", "1.targets.json")
snapshot = Snapshot(expires=expiry)
snapshot.meta["targets.json"] = MetaFile(version=1)
snapshot_bytes = write(Metadata(snapshot), "snapshot", "1.snapshot.json")
timestamp = Timestamp(expires=expiry)
timestamp.snapshot_meta = MetaFile(
    version=1, length=len(snapshot_bytes), hashes={"sha256": hashlib.sha256(snapshot_bytes).hexdigest()}
)
write(Metadata(timestamp), "timestamp", "timestamp.json")
print("written", out)
