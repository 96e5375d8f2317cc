//! Minimal NumPy `.npy` writing and reading for float32 C-order arrays.

use std::path::Path;

use crate::error::{Error, Result};

/// Encodes a float32 C-order array of `shape` as `.npy` bytes (format 1.0).
pub fn encode_f32(shape: &[usize], data: &[f32]) -> Result<Vec<u8>> {
    let count: usize = shape.iter().product();
    if count != data.len() {
        return Err(Error::invalid(format!(
            "shape {shape:?} holds {count} values, got {}",
            data.len()
        )));
    }
    let dims: Vec<String> = shape.iter().map(ToString::to_string).collect();
    let shape_str =
        if dims.len() == 1 { format!("({},)", dims[0]) } else { format!("({})", dims.join(", ")) };
    let mut header = format!("{{'descr': '<f4', 'fortran_order': False, 'shape': {shape_str}, }}");
    let unpadded = 10 + header.len() + 1;
    header.push_str(&" ".repeat((64 - unpadded % 64) % 64));
    header.push('\n');
    let hlen = u16::try_from(header.len()).map_err(|_| Error::invalid("npy header too long"))?;
    let mut out = Vec::with_capacity(10 + header.len() + 4 * data.len());
    out.extend_from_slice(b"\x93NUMPY\x01\x00");
    out.extend_from_slice(&hlen.to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    for v in data {
        out.extend_from_slice(&v.to_le_bytes());
    }
    Ok(out)
}

/// Writes a float32 array to `path` atomically.
pub fn write_f32(path: &Path, shape: &[usize], data: &[f32]) -> Result<()> {
    super::write_atomic(path, &encode_f32(shape, data)?)
}

/// Reads a little-endian float32 C-order `.npy` file: `(shape, data)`.
pub fn read_f32(path: &Path) -> Result<(Vec<usize>, Vec<f32>)> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let bad = |m: &str| Error::format(path, format!("not a float32 .npy file: {m}"));
    if bytes.len() < 10 || &bytes[..6] != b"\x93NUMPY" {
        return Err(bad("missing magic"));
    }
    let (hlen, start) = if bytes[6] == 1 {
        (usize::from(u16::from_le_bytes([bytes[8], bytes[9]])), 10)
    } else {
        let b: [u8; 4] =
            bytes.get(8..12).and_then(|s| s.try_into().ok()).ok_or_else(|| bad("short header"))?;
        (usize::try_from(u32::from_le_bytes(b)).map_err(|_| bad("header"))?, 12)
    };
    let header =
        std::str::from_utf8(bytes.get(start..start + hlen).ok_or_else(|| bad("short header"))?)
            .map_err(|_| bad("header is not text"))?;
    if !header.contains("'<f4'") || header.contains("'fortran_order': True") {
        return Err(bad("only little-endian float32 in C order is read"));
    }
    let shape_part = header
        .split("'shape':")
        .nth(1)
        .and_then(|s| s.split('(').nth(1))
        .and_then(|s| s.split(')').next())
        .ok_or_else(|| bad("no shape"))?;
    let shape: Vec<usize> = shape_part
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().map_err(|_| bad("shape")))
        .collect::<Result<_>>()?;
    let body = &bytes[start + hlen..];
    let count: usize = shape.iter().product();
    if body.len() != 4 * count {
        return Err(bad("data length does not match the shape"));
    }
    let data = body.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect();
    Ok((shape, data))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() -> Result<()> {
        let dir = std::env::temp_dir().join(format!("npy-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        let p = dir.join("a.npy");
        let data: Vec<f32> = (0..24_u8).map(|i| f32::from(i) * 0.5 - 3.0).collect();
        write_f32(&p, &[2, 3, 4], &data)?;
        let bytes = std::fs::read(&p).map_err(|e| Error::io(&p, e))?;
        assert_eq!((10 + usize::from(u16::from_le_bytes([bytes[8], bytes[9]]))) % 64, 0);
        assert_eq!(read_f32(&p)?, (vec![2, 3, 4], data));
        assert!(encode_f32(&[5], &[1.0]).is_err());
        Ok(())
    }
}
