#!/usr/bin/env bash
# Builds what an install needs: self-contained single-file executables `mesh-node` (the gateway) and `mesh`
# (the admin shell) for Linux, and a Debian package that installs them with a systemd unit per gateway.
#   ./package.sh                 # linux-x64: dist/linux-x64/{mesh-node,mesh}, dist/mesh_VERSION_amd64.deb
#   ./package.sh linux-arm64     # the same for 64-bit ARM (cross-built here; run it on an ARM machine)
# Then, on the machine of a site:  apt install ./mesh_VERSION_amd64.deb
#   write /etc/mesh/site-b.env (see /etc/mesh/example.env), then: systemctl enable --now mesh-node@site-b
# Needs the .NET SDK and dpkg-deb (Debian, Ubuntu). No runtime is needed where the package is installed.
set -euo pipefail
cd "$(dirname "$0")"
rid=${1:-linux-x64}
case "$rid" in
  linux-x64) arch=amd64 ;;
  linux-arm64) arch=arm64 ;;
  *) echo "package.sh: unknown target '$rid' (write linux-x64 or linux-arm64)" >&2; exit 2 ;;
esac
version=$(sed -n 's:.*<Version>\(.*\)</Version>.*:\1:p' Directory.Build.props)
out=dist/$rid
rm -rf "$out" && mkdir -p "$out"
publish() {   # project, name of the executable
  dotnet publish "src/$1" -c Release -r "$rid" --self-contained -p:PublishSingleFile=true \
    -p:IncludeNativeLibrariesForSelfExtract=true -p:DebugType=none -o "$out/$1" --nologo -v quiet -clp:ErrorsOnly >&2
  local exe; exe=$(sed -n 's:.*<AssemblyName>\(.*\)</AssemblyName>.*:\1:p' "src/$1/$1.csproj")
  mv "$out/$1/$exe" "$out/$2" && rm -rf "${out:?}/$1"
}
publish Mesh.Node mesh-node
publish Mesh.Cli mesh
echo "$out/mesh-node, $out/mesh: single-file executables ($(du -sh "$out" | cut -f1) together)"

command -v dpkg-deb >/dev/null || { echo "no dpkg-deb here: the executables are built, the Debian package is not" >&2; exit 0; }
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
install -D -m 0755 "$out/mesh-node" "$root/usr/bin/mesh-node"
install -D -m 0755 "$out/mesh" "$root/usr/bin/mesh"
install -D -m 0644 packaging/mesh-node@.service "$root/lib/systemd/system/mesh-node@.service"
install -D -m 0640 packaging/example.env "$root/etc/mesh/example.env"
install -D -m 0644 README.md "$root/usr/share/doc/mesh/README.md"
mkdir -p "$root/DEBIAN"
sed -e "s/@VERSION@/$version/" -e "s/@ARCH@/$arch/" packaging/debian/control >"$root/DEBIAN/control"
echo "/etc/mesh/example.env" >"$root/DEBIAN/conffiles"
for script in postinst prerm postrm; do install -m 0755 "packaging/debian/$script" "$root/DEBIAN/$script"; done
deb="dist/mesh_${version}_${arch}.deb"
# gzip: 8 s here where dpkg-deb's default xz takes 48 s for 20 MB less; DEB_COMPRESSION=xz for a release
dpkg-deb -Z"${DEB_COMPRESSION:-gzip}" --root-owner-group --build "$root" "$deb" >/dev/null
echo "$deb: apt install ./$deb, then systemctl enable --now mesh-node@NAME (flags in /etc/mesh/NAME.env)"
