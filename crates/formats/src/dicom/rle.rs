//! RLE Lossless (PS3.5 Annex G) decoded here rather than by dicom-rs, whose decoder panics on
//! corrupt segments: every length and offset is checked, and bad data is an error.

use crate::error::{DecodeError, DecodeResult};

fn corrupt(why: &str) -> DecodeError {
    DecodeError::Corrupt(format!("RLE: {why}"))
}

/// One PackBits segment (PS3.5 G.3.1) expanded to exactly `len` bytes.
fn unpack(seg: &[u8], len: usize) -> DecodeResult<Vec<u8>> {
    let mut out = Vec::with_capacity(len);
    let mut i = 0;
    while out.len() < len && i < seg.len() {
        let n = seg[i] as i8;
        i += 1;
        if n >= 0 {
            let count = n as usize + 1;
            let lit =
                seg.get(i..i + count).ok_or_else(|| corrupt("literal run past the segment"))?;
            out.extend_from_slice(lit);
            i += count;
        } else if n != -128 {
            let b = *seg.get(i).ok_or_else(|| corrupt("replicate run past the segment"))?;
            out.extend(std::iter::repeat_n(b, 1 + n.unsigned_abs() as usize));
            i += 1;
        }
    }
    if out.len() < len {
        return Err(corrupt(&format!("a segment decodes to {} bytes, {len} expected", out.len())));
    }
    out.truncate(len);
    Ok(out)
}

/// Decodes one frame's RLE data to interleaved native-endian samples of `bytes_per_sample`
/// bytes (the layout of uncompressed pixel data).
pub(crate) fn decode_frame(
    data: &[u8],
    pixels: usize,
    samples: usize,
    bytes_per_sample: usize,
) -> DecodeResult<Vec<u8>> {
    let header = data.get(..64).ok_or_else(|| corrupt("no 64-byte header"))?;
    let word = |k: usize| {
        u32::from_le_bytes([header[4 * k], header[4 * k + 1], header[4 * k + 2], header[4 * k + 3]])
    };
    let segments = samples * bytes_per_sample;
    if segments > 15 || word(0) as usize != segments {
        return Err(corrupt(&format!("{} segments, {segments} expected", word(0))));
    }
    let mut slices = Vec::with_capacity(segments);
    for seg in 0..segments {
        let start = word(seg + 1) as usize;
        let end = if seg + 1 < segments { word(seg + 2) as usize } else { data.len() };
        let bytes = data
            .get(start..end)
            .filter(|_| start >= 64)
            .ok_or_else(|| corrupt("segment offsets out of range"))?;
        // A PackBits pair expands to at most 128 bytes: refuse before allocating for a header
        // that claims more pixels than the data can hold.
        if bytes.len().saturating_mul(64) < pixels {
            return Err(corrupt(&format!("{} bytes cannot hold {pixels} pixels", bytes.len())));
        }
        slices.push(bytes);
    }
    let mut values = vec![0_u32; pixels * samples];
    for (seg, bytes) in slices.into_iter().enumerate() {
        let plane = unpack(bytes, pixels)?;
        // Segments run sample by sample, most significant byte first.
        let (sample, shift) =
            (seg / bytes_per_sample, 8 * (bytes_per_sample - 1 - seg % bytes_per_sample));
        for (p, &b) in plane.iter().enumerate() {
            values[p * samples + sample] |= u32::from(b) << shift;
        }
    }
    let mut out = Vec::with_capacity(values.len() * bytes_per_sample);
    for v in values {
        match bytes_per_sample {
            1 => out.push(u8::try_from(v).unwrap_or(u8::MAX)),
            2 => out.extend_from_slice(&u16::try_from(v).unwrap_or(u16::MAX).to_ne_bytes()),
            _ => out.extend_from_slice(&v.to_ne_bytes()),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(segments: &[Vec<u8>]) -> Vec<u8> {
        let mut header = vec![0_u8; 64];
        header[..4].copy_from_slice(&(segments.len() as u32).to_le_bytes());
        let mut offset = 64_u32;
        let mut body = Vec::new();
        for (k, s) in segments.iter().enumerate() {
            header[4 * (k + 1)..4 * (k + 2)].copy_from_slice(&offset.to_le_bytes());
            offset += s.len() as u32;
            body.extend_from_slice(s);
        }
        header.extend(body);
        header
    }

    #[test]
    fn packbits_literals_and_runs() {
        // Literal [1, 2], run of four 7s, no-op, literal [9].
        let seg = vec![1, 1, 2, (-3_i8) as u8, 7, 0x80, 0, 9];
        assert_eq!(unpack(&seg, 7).expect("unpack"), vec![1, 2, 7, 7, 7, 7, 9]);
        assert!(unpack(&seg, 8).is_err(), "too short");
        assert!(unpack(&[5, 1], 6).is_err(), "literal past the end");
    }

    #[test]
    fn sixteen_bit_frames_combine_high_and_low_bytes() {
        let data = frame(&[vec![1, 0x12, 0x34], vec![1, 0x56, 0x78]]);
        let out = decode_frame(&data, 2, 1, 2).expect("decode");
        let v: Vec<u16> = out.chunks_exact(2).map(|b| u16::from_ne_bytes([b[0], b[1]])).collect();
        assert_eq!(v, vec![0x1256, 0x3478]);
        assert!(decode_frame(&data, 3, 1, 2).is_err(), "segments too short");
        assert!(decode_frame(&data, 2, 3, 1).is_err(), "wrong segment count");
        assert!(decode_frame(&data[..10], 2, 1, 2).is_err(), "no header");
    }
}
