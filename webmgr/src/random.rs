//! Random bytes for salts and job ids, from the kernel's random source.

use std::io::Read;

/// `N` bytes from the kernel's random source.
pub(crate) fn bytes<const N: usize>() -> std::io::Result<[u8; N]> {
    let mut bytes = [0u8; N];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut bytes)?;
    Ok(bytes)
}
