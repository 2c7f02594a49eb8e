#!/usr/bin/env bats
# sbx image import of OCI image layouts (what `skopeo copy ... oci:DIR` and
# umoci write), built here by hand with python: layers in order, whiteouts,
# opaque directories, the config's defaults, digest checks, index selection
# and hostile layers. As an unprivileged user.

load ../helpers

setup() {
	sbx_setup
	[ "$(id -u)" != 0 ] || skip "the rootless suite must run as a user (tests/integration/run does that)"
	IMAGES=$XDG_DATA_HOME/sbx/images
	cd "$BATS_TEST_TMPDIR"
}

teardown() { chmod -R u+rwX "$BATS_TEST_TMPDIR" 2>/dev/null || true; }

store() { ls -A "$IMAGES" 2>/dev/null | tr '\n' ' ' | sed 's/ $//'; }

# mkoci DIR < SPEC: writes an OCI image layout from a JSON spec:
#   {"images": [{"ref": R, "platform": {...}, "config": {...},
#                "layers": [{"compress": "gzip"|"zstd"|"none",
#                            "entries": [[KIND, NAME, ARG], ...]}]}],
#    "nested": true}   (one top-level entry: an index of all the images)
# KIND: dir, file (ARG: content), sym (ARG: target), hard (ARG: target),
# busybox (a static busybox with sh, cat, ls, pwd, echo, env, test links).
# Prints "layer N sha256:HEX" for every layer, in order.
mkoci() {
	cat >"$BATS_TEST_TMPDIR/mkoci.py" <<-'EOF'
		import hashlib, io, json, os, subprocess, sys, tarfile, gzip
		out = sys.argv[1]
		spec = json.load(sys.stdin)
		os.makedirs(out + "/blobs/sha256", exist_ok=True)
		def blob(data, media):
		    d = hashlib.sha256(data).hexdigest()
		    with open(f"{out}/blobs/sha256/{d}", "wb") as f:
		        f.write(data)
		    return {"mediaType": media, "digest": "sha256:" + d, "size": len(data)}
		def tar(entries):
		    buf = io.BytesIO()
		    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
		        for e in entries:
		            kind, name, arg = (e + [""])[:3]
		            if kind == "busybox":
		                t.add("/bin/busybox", name + "/busybox")
		                for a in ["sh", "cat", "ls", "pwd", "echo", "env", "test"]:
		                    ti = tarfile.TarInfo(f"{name}/{a}")
		                    ti.type, ti.linkname = tarfile.SYMTYPE, "busybox"
		                    t.addfile(ti)
		                continue
		            ti = tarfile.TarInfo(name)
		            ti.mtime = 1700000000
		            if kind == "file":
		                data = arg.encode()
		                ti.size, ti.mode = len(data), 0o644
		                t.addfile(ti, io.BytesIO(data))
		                continue
		            if kind == "dir":
		                ti.type, ti.mode = tarfile.DIRTYPE, 0o755
		            elif kind == "sym":
		                ti.type, ti.linkname = tarfile.SYMTYPE, arg
		            elif kind == "hard":
		                ti.type, ti.linkname = tarfile.LNKTYPE, arg
		            t.addfile(ti)
		    return buf.getvalue()
		n = 0
		descs = []
		for img in spec["images"]:
		    layers = []
		    for layer in img["layers"]:
		        data = tar(layer["entries"])
		        c = layer.get("compress", "gzip")
		        media = "application/vnd.oci.image.layer.v1.tar"
		        if c == "gzip":
		            data, media = gzip.compress(data), media + "+gzip"
		        elif c == "zstd":
		            data = subprocess.run(["zstd", "-q", "-c"], input=data, capture_output=True, check=True).stdout
		            media += "+zstd"
		        d = blob(data, media)
		        print(f"layer {n} {d['digest']}")
		        n += 1
		        layers.append(d)
		    plat = img.get("platform", {"os": "linux", "architecture": "amd64"})
		    cfg = {"architecture": plat["architecture"], "os": plat["os"],
		           "config": img.get("config", {}),
		           "rootfs": {"type": "layers", "diff_ids": []}}
		    cd = blob(json.dumps(cfg).encode(), "application/vnd.oci.image.config.v1+json")
		    man = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
		           "config": cd, "layers": layers}
		    md = blob(json.dumps(man).encode(), man["mediaType"])
		    if "platform" in img:
		        md["platform"] = img["platform"]
		    if "ref" in img:
		        md["annotations"] = {"org.opencontainers.image.ref.name": img["ref"]}
		    descs.append(md)
		if spec.get("nested"):
		    idx = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
		           "manifests": descs}
		    descs = [blob(json.dumps(idx).encode(), idx["mediaType"])]
		with open(out + "/index.json", "w") as f:
		    json.dump({"schemaVersion": 2, "manifests": descs}, f)
		with open(out + "/oci-layout", "w") as f:
		    json.dump({"imageLayoutVersion": "1.0.0"}, f)
	EOF
	/usr/bin/python3 "$BATS_TEST_TMPDIR/mkoci.py" "$1"
}

# Three layers: a base, then whiteouts and an opaque directory (marker
# first), then a zstd layer whose opaque marker comes after its own entry.
LAYOUT_SPEC='{"images": [{"config": {
	"Env": ["PATH=/bin", "GREETING=hello from oci"],
	"WorkingDir": "/app",
	"Entrypoint": ["/bin/sh", "-c"],
	"Cmd": ["echo \"$GREETING\"; pwd; echo $(cat config); ls /data; ls /mixed"]},
  "layers": [
	{"compress": "gzip", "entries": [["busybox", "bin"], ["dir", "app"],
	  ["file", "app/config", "v1"], ["file", "gone.txt", "x"], ["file", "keep.txt", "k"],
	  ["dir", "data"], ["file", "data/old1", "1"], ["dir", "data/sub"],
	  ["file", "data/sub/old2", "2"], ["dir", "tree"], ["file", "tree/leaf", "l"],
	  ["dir", "mixed"], ["file", "mixed/lower", "lo"]]},
	{"compress": "none", "entries": [["file", ".wh.gone.txt"], ["dir", "data"],
	  ["file", "data/.wh..wh..opq"], ["file", "data/new1", "n"], ["file", "app/config", "v2"],
	  ["file", ".wh.tree"]]},
	{"compress": "zstd", "entries": [["dir", "mixed"], ["file", "mixed/mine", "mine"],
	  ["file", "mixed/.wh..wh..opq"], ["file", "etc/motd", "welcome"],
	  ["hard", "keep-link", "keep.txt"]]}]}]}'

@test "import an OCI layout: layers in order, whiteouts, opaque dirs, config defaults" {
	mkoci layout <<<"$LAYOUT_SPEC" >/dev/null
	run sbx image import img layout
	assert_status 0
	assert_output img
	root=$IMAGES/img/rootfs
	[ ! -e "$root/gone.txt" ] && [ ! -e "$root/tree" ]
	[ "$(cat "$root/keep.txt")" = k ]
	[ "$(cat "$root/app/config")" = v2 ]
	[ "$(ls -A "$root/data")" = new1 ]
	[ "$(ls -A "$root/mixed")" = mine ]
	[ "$(cat "$root/etc/motd")" = welcome ]
	[ "$(stat -c %i "$root/keep-link")" = "$(stat -c %i "$root/keep.txt")" ]
	# No whiteout file is left as such.
	[ -z "$(find "$root" -name '.wh.*')" ]
	meta=$IMAGES/img/image.json
	[ "$(jq -c .cmd "$meta")" = '["/bin/sh","-c","echo \"$GREETING\"; pwd; echo $(cat config); ls /data; ls /mixed"]' ]
	[ "$(jq -c .env "$meta")" = '["PATH=/bin","GREETING=hello from oci"]' ]
	[ "$(jq -r .workdir "$meta")" = /app ]
	[ "$(jq -r .source "$meta")" = "oci:$BATS_TEST_TMPDIR/layout" ]
	# No command: the config's Entrypoint + Cmd, in its WorkingDir, with its Env.
	run sbx run --rm img
	assert_status 0
	assert_output "hello from oci
/app
v2
new1
mine"
	run sbx run --rm img cat /etc/motd
	assert_status 0
	assert_output welcome
	[ "$(store)" = img ]
}

@test "OCI layout: a bad digest fails 125, exactly, and leaves nothing behind" {
	out=$(mkoci layout <<<"$LAYOUT_SPEC")
	digest=$(sed -n 's/^layer 1 //p' <<<"$out")
	blob=layout/blobs/sha256/${digest#sha256:}
	# Same size, other content.
	printf 'X' | dd of="$blob" bs=1 seek=100 conv=notrunc status=none
	actual=$(sha256sum "$blob" | cut -d' ' -f1)
	run sbx image import img layout
	assert_status 125
	assert_output "sbx: image import: \"layout\": layer 2 of 3 (${digest:0:19}): blob \"$digest\" does not match its digest (its content is sha256:$actual); the layout is damaged"
	[ "$(store)" = "" ]
	# A blob of the wrong size is refused before it is read.
	echo extra >>"$blob"
	run sbx image import img layout
	assert_status 125
	assert_contains "blob \"$digest\" has $(stat -c %s "$blob") bytes, but its descriptor says"
	# A missing one.
	rm "$blob"
	run sbx image import img layout
	assert_status 125
	assert_output "sbx: image import: \"layout\": layer 2 of 3 (${digest:0:19}): blob \"$digest\" is missing (no \"blobs/sha256/${digest#sha256:}\")"
	[ "$(store)" = "" ]
}

@test "OCI layout: a tampered manifest or index is refused" {
	mkoci layout <<<'{"images": [{"layers": [{"entries": [["file", "f", "x"]]}]}]}' >/dev/null
	mdigest=$(jq -r '.manifests[0].digest' layout/index.json)
	mblob=layout/blobs/sha256/${mdigest#sha256:}
	sed -i 's/"schemaVersion": 2/"schemaVersion": 3/' "$mblob"
	run sbx image import img layout
	assert_status 125
	assert_contains "blob \"$mdigest\" does not match its digest"
	# Duplicate keys are refused (strict JSON).
	printf '{"schemaVersion": 2, "schemaVersion": 2, "manifests": []}' >layout/index.json
	run sbx image import img layout
	assert_status 125
	assert_output 'sbx: image import: "layout": index.json: invalid JSON at line 1, column 36: duplicate object key near '\''"schemaVersion"'\'''
	echo '{"imageLayoutVersion": "2.0.0"}' >layout/oci-layout
	run sbx image import img layout
	assert_status 125
	assert_output 'sbx: image import: "layout": oci-layout: unsupported "imageLayoutVersion" "2.0.0"; only 1.x is known'
	[ "$(store)" = "" ]
}

@test "OCI layout: a hostile layer is refused and writes nothing outside" {
	mkdir -p deep/er target
	echo keep >target/x
	out=$(mkoci layout <<-EOF
		{"images": [{"layers": [
		  {"entries": [["file", "ok", "1"]]},
		  {"entries": [["file", "../../escaped", "evil"]]}]}]}
	EOF
	)
	digest=$(sed -n 's/^layer 1 //p' <<<"$out")
	cd deep/er
	run sbx image import evil ../../layout
	assert_status 125
	assert_output "sbx: image import: \"../../layout\": layer 2 of 2 (${digest:0:19}): entry \"../../escaped\" escapes the image root"
	cd ../..
	[ ! -e escaped ] && [ ! -e deep/escaped ] && [ ! -e "$IMAGES/escaped" ]
	[ "$(store)" = "" ]
	# A symlink laid down by one layer is never written or whited out through.
	rm -rf layout
	mkoci layout <<-EOF >/dev/null
		{"images": [{"layers": [
		  {"entries": [["sym", "link", "$BATS_TEST_TMPDIR/target"]]},
		  {"entries": [["file", "link/.wh.x"], ["file", "link/planted", "evil"]]}]}]}
	EOF
	run sbx image import evil layout
	assert_status 125
	assert_contains 'entry "link/planted" goes through the symbolic link "link"; refusing to write through it'
	[ "$(ls -A target)" = x ] && [ "$(cat target/x)" = keep ]
	# An invalid whiteout name.
	rm -rf layout
	mkoci layout <<<'{"images": [{"layers": [{"entries": [["file", "a/.wh..."]]}]}]}' >/dev/null
	run sbx image import evil layout
	assert_status 125
	assert_contains 'entry "a/.wh..." is not a valid whiteout'
	[ "$(store)" = "" ]
}

@test "OCI layout: several images are chosen by ref, platforms by this machine" {
	[ "$(uname -m)" = x86_64 ] || skip "the expected messages name linux/amd64"
	mkoci layout <<-'EOF' >/dev/null
		{"images": [
		  {"ref": "1.0", "layers": [{"entries": [["file", "version", "1.0"]]}]},
		  {"ref": "2.0", "layers": [{"entries": [["file", "version", "2.0"]]}]}]}
	EOF
	run sbx image import img layout
	assert_status 125
	assert_output "sbx: image import: \"layout\": index.json lists several images (\"1.0\", \"2.0\"); choose one as \"layout:REF\""
	run sbx image import img layout:2.0
	assert_status 0
	[ "$(cat "$IMAGES/img/rootfs/version")" = 2.0 ]
	[ "$(jq -r .source "$IMAGES/img/image.json")" = "oci:$BATS_TEST_TMPDIR/layout:2.0" ]
	run sbx image import img2 layout:3.0
	assert_status 125
	assert_output "sbx: image import: \"layout\": index.json has no image named \"3.0\" (it has \"1.0\", \"2.0\")"
	# A multi-platform image: a nested index, linux/amd64 picked.
	rm -rf layout
	mkoci layout <<-'EOF' >/dev/null
		{"nested": true, "images": [
		  {"platform": {"os": "linux", "architecture": "arm64", "variant": "v8"},
		   "layers": [{"entries": [["file", "arch", "arm64"]]}]},
		  {"platform": {"os": "linux", "architecture": "amd64"},
		   "layers": [{"entries": [["file", "arch", "amd64"]]}]}]}
	EOF
	run sbx image import multi layout
	assert_status 0
	assert_output multi
	[ "$(cat "$IMAGES/multi/rootfs/arch")" = amd64 ]
	# Only other platforms: refused, saying which there are.
	rm -rf layout
	mkoci layout <<-'EOF' >/dev/null
		{"images": [
		  {"platform": {"os": "linux", "architecture": "arm64", "variant": "v8"},
		   "layers": [{"entries": [["file", "arch", "arm64"]]}]},
		  {"platform": {"os": "linux", "architecture": "s390x"},
		   "layers": [{"entries": [["file", "arch", "s390x"]]}]}]}
	EOF
	run sbx image import other layout
	assert_status 125
	assert_output "sbx: image import: \"layout\": index.json has no image for linux/amd64, only for \"linux/arm64/v8\", \"linux/s390x\""
	[ "$(store)" = "img multi" ]
}

@test "OCI layout: one written by umoci (whiteouts it generated) imports and runs" {
	command -v umoci >/dev/null || fail "umoci is missing: run 'make deps'"
	umoci init --layout L
	umoci new --image L:latest
	umoci unpack --rootless --image L:latest b >/dev/null
	mkdir -p b/rootfs/bin b/rootfs/data/sub
	cp /bin/busybox b/rootfs/bin/
	for a in sh ls; do ln -s busybox "b/rootfs/bin/$a"; done
	echo one >b/rootfs/data/a
	echo two >b/rootfs/data/sub/b
	echo gone >b/rootfs/gone
	umoci repack --image L:latest b
	rm -rf b
	umoci unpack --rootless --image L:latest b >/dev/null
	rm b/rootfs/gone b/rootfs/data/a
	rm -r b/rootfs/data/sub
	echo new >b/rootfs/data/c
	umoci repack --image L:latest b
	umoci config --image L:latest --config.cmd sh --config.cmd -c \
		--config.cmd 'echo $X; pwd; test -e /gone || echo no-gone; ls' --config.env X=umoci --config.workingdir /data
	run sbx image import um L:latest
	assert_status 0
	assert_output um
	run sbx run --rm um
	assert_status 0
	assert_output "umoci
/data
no-gone
c"
	[ "$(jq -r .source "$IMAGES/um/image.json")" = "oci:$BATS_TEST_TMPDIR/L:latest" ]
}
