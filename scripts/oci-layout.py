"""Packs an image root into an OCI image layout, as one layer, for scripts/build-image.

    python3 scripts/oci-layout.py ROOT LAYOUT DOCKERFILE

The layer is a reproducible tar (paths sorted, times zeroed, owners and modes kept) compressed with
gzip -9 (umoci's default level made the image 10% larger). The image config takes USER, WORKDIR,
EXPOSE, ENTRYPOINT and CMD from the Dockerfile's last stage, so the two builds cannot disagree;
the layout is tagged `hookgate`. Prints the compressed and unpacked sizes.
"""
import gzip
import hashlib
import io
import json
import os
import sys
import tarfile

root, layout, dockerfile = sys.argv[1:4]


def declared(path):
    """USER, WORKDIR, EXPOSE, ENTRYPOINT and CMD of the Dockerfile's last stage."""
    stage = open(path).read().split("\nFROM ")[-1]
    lines = [line for line in stage.splitlines() if line.strip() and not line.startswith("#")]
    # Anything else in the stage would make Docker's image differ from this one.
    if lines[0].strip() != "scratch" or lines[1].strip() != "COPY --from=build /rootfs /":
        sys.exit(f"oci-layout: {path}'s last stage must be `FROM scratch` and `COPY --from=build /rootfs /`, as this layout is")
    found = {}
    for line in lines[2:]:
        words = line.split(None, 1)
        if words[0] not in ("USER", "WORKDIR", "EXPOSE", "ENTRYPOINT", "CMD"):
            sys.exit(f"oci-layout: {path}'s last stage has `{line}`, which this layout does not reproduce")
        if len(words) == 2 and words[0] in ("USER", "WORKDIR", "EXPOSE", "ENTRYPOINT", "CMD"):
            value = words[1].strip()
            found[words[0]] = json.loads(value) if value.startswith("[") else value
    missing = {"USER", "WORKDIR", "EXPOSE", "ENTRYPOINT", "CMD"} - found.keys()
    if missing:
        sys.exit(f"oci-layout: {path} does not declare {', '.join(sorted(missing))} in its last stage")
    return found


def blob(data):
    digest = hashlib.sha256(data).hexdigest()
    os.makedirs(f"{layout}/blobs/sha256", exist_ok=True)
    with open(f"{layout}/blobs/sha256/{digest}", "wb") as file:
        file.write(data)
    return {"digest": "sha256:" + digest, "size": len(data)}


def layer_tar():
    def zeroed(info):
        info.mtime, info.uname, info.gname = 0, "", ""
        return info

    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for folder, folders, files in os.walk(root):
            folders.sort()
            if folder != root:
                archive.add(folder, arcname=os.path.relpath(folder, root), recursive=False, filter=zeroed)
            for name in sorted(files):
                path = os.path.join(folder, name)
                archive.add(path, arcname=os.path.relpath(path, root), recursive=False, filter=zeroed)
    return buffer.getvalue()


docker = declared(dockerfile)
plain = layer_tar()
layer = blob(gzip.compress(plain, compresslevel=9, mtime=0))
config = {
    "architecture": "amd64",
    "os": "linux",
    "config": {
        "User": docker["USER"],
        "WorkingDir": docker["WORKDIR"],
        "ExposedPorts": {f"{port}/tcp" if "/" not in port else port: {} for port in docker["EXPOSE"].split()},
        "Env": ["PATH=/usr/local/bin:/usr/bin:/bin"],
        "Entrypoint": docker["ENTRYPOINT"],
        "Cmd": docker["CMD"],
    },
    "rootfs": {"type": "layers", "diff_ids": ["sha256:" + hashlib.sha256(plain).hexdigest()]},
    "created": "1970-01-01T00:00:00Z",
    "history": [{"created": "1970-01-01T00:00:00Z", "created_by": "scripts/image-root"}],
}
manifest = {
    "schemaVersion": 2,
    "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "config": dict(blob(json.dumps(config, sort_keys=True).encode()), mediaType="application/vnd.oci.image.config.v1+json"),
    "layers": [dict(layer, mediaType="application/vnd.oci.image.layer.v1.tar+gzip")],
}
entry = dict(
    blob(json.dumps(manifest, sort_keys=True).encode()),
    mediaType="application/vnd.oci.image.manifest.v1+json",
    annotations={"org.opencontainers.image.ref.name": "hookgate"},
)
with open(f"{layout}/index.json", "w") as file:
    json.dump({"schemaVersion": 2, "manifests": [entry]}, file)
with open(f"{layout}/oci-layout", "w") as file:
    json.dump({"imageLayoutVersion": "1.0.0"}, file)

compressed = layer["size"] + manifest["config"]["size"]
print(f"build-image: {layout}:hookgate, {compressed / 1e6:.1f} MB compressed, {len(plain) / 1e6:.1f} MB unpacked; "
      f"user {docker['USER']}, entrypoint {docker['ENTRYPOINT']}, from the Dockerfile's last stage")
