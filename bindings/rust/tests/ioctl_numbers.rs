//! The ioctl numbers and struct sizes agree with uapi/linux/flakeid.h as a
//! C compiler sees it.  Needs a C compiler and the checkout (host only):
//! without them the test prints why and passes.

use std::mem::size_of;
use std::path::Path;
use std::process::Command;

use flakeid::sys;

#[test]
fn ioctl_numbers_match_the_uapi_header() {
    let top = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let uapi = top.join("uapi");
    if !uapi.join("linux/flakeid.h").exists() {
        eprintln!("skip: no uapi/linux/flakeid.h at {}", uapi.display());
        return;
    }
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    let dir = std::env::temp_dir().join(format!("flakeid-rs-ioctl-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let src = dir.join("n.c");
    std::fs::write(
        &src,
        "#include <stdio.h>\n#include <linux/flakeid.h>\n\
         int main(void) { printf(\"%lu %lu %lu %zu %zu %zu\\n\", \
         (unsigned long)FLAKEID_IOC_BATCH, (unsigned long)FLAKEID_IOC_DECODE, \
         (unsigned long)FLAKEID_IOC_CONFIG, sizeof(struct flakeid_batch), \
         sizeof(struct flakeid_decode), sizeof(struct flakeid_config)); return 0; }\n",
    )
    .unwrap();
    let exe = dir.join("n");
    match Command::new(&cc).arg("-I").arg(&uapi).arg("-o").arg(&exe).arg(&src).status() {
        Ok(s) if s.success() => {}
        other => {
            eprintln!("skip: {} could not build the probe: {:?}", cc, other);
            return;
        }
    }
    let out = Command::new(&exe).output().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    let c = String::from_utf8(out.stdout).unwrap();
    let ours = format!(
        "{} {} {} {} {} {}\n",
        sys::IOC_BATCH,
        sys::IOC_DECODE,
        sys::IOC_CONFIG,
        size_of::<sys::Batch>(),
        size_of::<sys::Decode>(),
        size_of::<sys::Config>()
    );
    assert_eq!(ours, c);
}

#[test]
fn struct_sizes_are_the_published_versions() {
    assert_eq!(size_of::<sys::Batch>(), 32);
    assert_eq!(size_of::<sys::Decode>(), 56);
    assert_eq!(size_of::<sys::Config>(), 88);
    assert_eq!(sys::IOC_BATCH, 0xC020_B901);
}
