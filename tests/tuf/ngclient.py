"""python-tuf's ngclient.Updater as an independent TUF client: refreshes the repository at
URL from ROOT and downloads both Sigstore targets into WORK/targets."""
import sys, os
from tuf.ngclient import Updater
url, root, work = sys.argv[1], sys.argv[2], sys.argv[3]
os.makedirs(work + "/meta", exist_ok=True); os.makedirs(work + "/targets", exist_ok=True)
u = Updater(metadata_dir=work + "/meta", metadata_base_url=url, target_base_url=url + "/targets/", target_dir=work + "/targets", bootstrap=open(root, "rb").read())
u.refresh()
for name in ["trusted_root.json", "signing_config.v0.2.json"]:
    info = u.get_targetinfo(name)
    assert info is not None, name
    path = u.download_target(info)
    print("downloaded", name, info.length, path)
print("root", u._trusted_set.root.version, "timestamp", u._trusted_set.timestamp.version)
