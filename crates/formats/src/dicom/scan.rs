//! Length checks run before dicom-rs parses a file. dicom-rs allocates and zeroes a declared
//! length before reading it, so one corrupt length in a small file would otherwise cost up to
//! 4 GiB. [`check_lengths`] walks every element (into sequences and items) and refuses a
//! declared length past the end of the data; [`check_value_lengths`] then runs dicom-rs's own
//! token reader over the data set and refuses any value or item declared longer than the file
//! before dicom-rs reads it (where a corrupt file makes the two walks part ways).

use dicom_core::Tag;
use dicom_core::dictionary::{DataDictionary, DataDictionaryEntry, VirtualVr};
use dicom_dictionary_std::StandardDataDictionary;

use crate::error::{DecodeError, DecodeResult};

const UNDEFINED: u32 = u32::MAX;
const ITEM: (u16, u16) = (0xFFFE, 0xE000);
const PIXEL_DATA: (u16, u16) = (0x7FE0, 0x0010);
const ITEM_END: (u16, u16) = (0xFFFE, 0xE00D);
const SEQUENCE_END: (u16, u16) = (0xFFFE, 0xE0DD);
const MAX_DEPTH: usize = 32;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Encoding {
    ExplicitLe,
    ExplicitBe,
    ImplicitLe,
}

/// An element header as walked: tag, VR (if known) and declared length.
type ElementHeader = ((u16, u16), Option<[u8; 2]>, u32);

struct Walker<'a> {
    data: &'a [u8],
    pos: usize,
}

fn corrupt(why: String) -> DecodeError {
    DecodeError::Corrupt(format!("DICOM: {why}"))
}

impl Walker<'_> {
    fn take(&mut self, n: usize) -> DecodeResult<&[u8]> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.data.len());
        let end = end.ok_or_else(|| corrupt(format!("truncated at byte {}", self.pos)))?;
        let s = &self.data[self.pos..end];
        self.pos = end;
        Ok(s)
    }

    fn u16(&mut self, enc: Encoding) -> DecodeResult<u16> {
        let b = self.take(2)?;
        let b = [b[0], b[1]];
        Ok(if enc == Encoding::ExplicitBe { u16::from_be_bytes(b) } else { u16::from_le_bytes(b) })
    }

    fn u32(&mut self, enc: Encoding) -> DecodeResult<u32> {
        let b = self.take(4)?;
        let b = [b[0], b[1], b[2], b[3]];
        Ok(if enc == Encoding::ExplicitBe { u32::from_be_bytes(b) } else { u32::from_le_bytes(b) })
    }

    /// One element header: tag, VR (the dictionary's in implicit VR, when it has one exact VR)
    /// and length.
    fn header(&mut self, enc: Encoding) -> DecodeResult<ElementHeader> {
        // Items and delimiters are a tag and a 4-byte length, no VR.
        let tag = (self.u16(enc)?, self.u16(enc)?);
        if tag.0 == 0xFFFE {
            return Ok((tag, None, self.u32(enc)?));
        }
        if enc == Encoding::ImplicitLe {
            let vr = StandardDataDictionary.by_tag(Tag(tag.0, tag.1)).and_then(|e| match e.vr() {
                VirtualVr::Exact(vr) => Some(vr.to_bytes()),
                _ => None,
            });
            return Ok((tag, vr, self.u32(enc)?));
        }
        let vr = self.take(2)?;
        let vr = [vr[0], vr[1]];
        // As dicom-rs reads it: these VRs have a 2-byte length; every other VR, unknown ones
        // included (read as UN), has 2 reserved bytes and a 4-byte length.
        let short = matches!(
            &vr,
            b"AE"
                | b"AS"
                | b"AT"
                | b"CS"
                | b"DA"
                | b"DS"
                | b"DT"
                | b"FL"
                | b"FD"
                | b"IS"
                | b"LO"
                | b"LT"
                | b"PN"
                | b"SH"
                | b"SL"
                | b"SS"
                | b"ST"
                | b"TM"
                | b"UI"
                | b"UL"
                | b"US"
        );
        let len = if short {
            u32::from(self.u16(enc)?)
        } else {
            self.take(2)?;
            self.u32(enc)?
        };
        Ok((tag, Some(vr), len))
    }

    /// Elements up to `end`, or up to the delimiter `until` when the length is undefined.
    /// `raw_items`: items hold bytes (encapsulated pixel data), not data sets.
    fn elements(
        &mut self,
        end: usize,
        enc: Encoding,
        until: Option<(u16, u16)>,
        raw_items: bool,
        depth: usize,
    ) -> DecodeResult<()> {
        if depth > MAX_DEPTH {
            return Err(corrupt(format!("sequences nested deeper than {MAX_DEPTH}")));
        }
        while self.pos < end {
            let (tag, vr, len) = self.header(enc)?;
            let sq = vr == Some(*b"SQ");
            if Some(tag) == until {
                return Ok(());
            }
            if tag == ITEM_END || tag == SEQUENCE_END {
                continue;
            }
            if len == UNDEFINED {
                // As dicom-rs reads it: undefined-length pixel data holds fragments; any other
                // undefined-length element is a sequence of data set items.
                let (delimiter, raw) = match tag {
                    ITEM => (ITEM_END, false),
                    PIXEL_DATA => (SEQUENCE_END, true),
                    _ => (SEQUENCE_END, false),
                };
                self.elements(end, enc, Some(delimiter), raw, depth + 1)?;
                continue;
            }
            // dicom-rs reads len / size numbers of a binary VR and goes on from the declared end,
            // so a remainder would shift its reading off the walk's.
            if let Some(size) = vr.and_then(binary_size)
                && len % size != 0
            {
                return Err(corrupt(format!(
                    "element ({:04X},{:04X}) has {len} bytes, not a multiple of {size}",
                    tag.0, tag.1
                )));
            }
            let start = self.pos;
            self.take(len as usize)?;
            if sq || (tag == ITEM && !raw_items) {
                let mut inner = Walker { data: self.data, pos: start };
                inner.elements(self.pos, enc, None, false, depth + 1)?;
            }
        }
        // A missing final delimiter at the end of the data is tolerated, as dicom-rs does.
        Ok(())
    }
}

/// The size of one number of a binary VR.
fn binary_size(vr: [u8; 2]) -> Option<u32> {
    match &vr {
        b"US" | b"OW" | b"SS" => Some(2),
        b"AT" | b"FL" | b"OF" | b"SL" | b"UL" | b"OL" => Some(4),
        b"FD" | b"OD" | b"SV" | b"OV" | b"UV" => Some(8),
        _ => None,
    }
}

/// Checks a Part 10 body (starting at `DICM`): the meta group, then the data set in the
/// encoding its transfer syntax names (deflated data sets are not walked).
pub(crate) fn check_lengths(body: &[u8]) -> DecodeResult<()> {
    let mut w = Walker { data: body, pos: 4 };
    let mut syntax = String::new();
    // The meta group is explicit VR little endian. As dicom-rs reads it: when it starts with
    // its group length (0002,0000), every element within that many bytes belongs to it,
    // whatever its group (so the transfer syntax may follow an element of another group);
    // otherwise it is the run of group 0002 elements.
    let group_end = {
        let mut first = Walker { data: body, pos: 4 };
        match first.header(Encoding::ExplicitLe) {
            Ok(((0x0002, 0x0000), _, 4)) => {
                let n = first.u32(Encoding::ExplicitLe)?;
                w.pos = first.pos;
                Some(first.pos.saturating_add(n as usize))
            }
            _ => None,
        }
    };
    let in_meta = |w: &Walker<'_>| match group_end {
        Some(end) => w.pos < end,
        None => body.get(w.pos..w.pos + 2) == Some(&[0x02, 0x00]),
    };
    while in_meta(&w) {
        let (tag, _, len) = w.header(Encoding::ExplicitLe)?;
        if len == UNDEFINED {
            return Err(corrupt("a meta element of undefined length".into()));
        }
        let value = w.take(len as usize)?;
        if tag == (0x0002, 0x0010) {
            syntax = String::from_utf8_lossy(value).trim_end_matches(['\0', ' ']).to_owned();
        }
    }
    let enc = match syntax.as_str() {
        "1.2.840.10008.1.2" => Encoding::ImplicitLe,
        "1.2.840.10008.1.2.2" => Encoding::ExplicitBe,
        "1.2.840.10008.1.2.1.99" => return Ok(()),
        _ => Encoding::ExplicitLe,
    };
    w.elements(body.len(), enc, None, false, 0)
}

/// The most bytes a deflated data set may inflate to.
const MAX_INFLATED: u64 = 1 << 30;

/// Runs dicom-rs's data set reader over a Part 10 body (from `DICM`) as `from_reader` does,
/// and refuses an element or item whose declared length is longer than the whole data set,
/// between reading its header and reading (allocating) its value. A deflated data set is
/// inflated first (at most [`MAX_INFLATED`] bytes). Errors of the reader itself are left to the
/// real parse to report.
pub(crate) fn check_value_lengths(body: &[u8]) -> DecodeResult<()> {
    use std::io::{Cursor, Read};

    use dicom_core::header::{HasLength, Header};
    use dicom_encoding::transfer_syntax::Codec;
    use dicom_object::meta::FileMetaTable;
    use dicom_parser::dataset::DataToken;
    use dicom_transfer_syntax_registry::{TransferSyntaxIndex as _, TransferSyntaxRegistry};

    let mut src = Cursor::new(body);
    let Ok(meta) = FileMetaTable::from_reader(&mut src) else { return Ok(()) };
    let Some(ts) = TransferSyntaxRegistry.get(meta.transfer_syntax()) else { return Ok(()) };
    let (data, limit): (Box<dyn Read>, u64) = match ts.codec() {
        Codec::Dataset(None) => return Ok(()),
        Codec::Dataset(Some(adapter)) => {
            let mut inflated = Vec::new();
            let mut reader = adapter.adapt_reader(Box::new(src)).take(MAX_INFLATED + 1);
            // A corrupt stream: check what inflated before the error (the real parse reads
            // that far too), keeping the bytes read_to_end appended.
            let _ = reader.read_to_end(&mut inflated);
            let n = inflated.len() as u64;
            if n > MAX_INFLATED {
                return Err(corrupt(format!("the deflated data set inflates past {n} bytes")));
            }
            (Box::new(Cursor::new(inflated)), n)
        }
        _ => (Box::new(src), body.len() as u64),
    };
    let options = dicom_parser::dataset::read::DataSetReaderOptions::default();
    let Ok(reader) = dicom_parser::DataSetReader::new_with_ts_options(data, ts, options) else {
        return Ok(());
    };
    for token in reader {
        let (tag, len) = match token {
            Ok(DataToken::ElementHeader(h)) => (Some(h.tag()), h.length()),
            Ok(DataToken::ItemStart { len }) => (None, len),
            Ok(_) => continue,
            Err(_) => return Ok(()),
        };
        if let Some(n) = len.get().filter(|&n| u64::from(n) > limit) {
            let what = tag.map_or("an item".to_owned(), |t| format!("element {t}"));
            return Err(corrupt(format!("{what} declares {n} bytes, the data set has {limit}")));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(elements: &[u8]) -> Vec<u8> {
        let mut b = b"DICM".to_vec();
        // (0002,0010) UI "1.2.840.10008.1.2.1\0"
        b.extend_from_slice(&[0x02, 0x00, 0x10, 0x00, b'U', b'I', 20, 0]);
        b.extend_from_slice(b"1.2.840.10008.1.2.1\0");
        b.extend_from_slice(elements);
        b
    }

    #[test]
    fn lengths_past_the_end_are_refused() {
        // (0028,0010) US 2 bytes, then (7FE0,0010) OW with 4 bytes.
        let ok = [
            0x28, 0, 0x10, 0, b'U', b'S', 2, 0, 8, 0, 0xE0, 0x7F, 0x10, 0, b'O', b'W', 0, 0, 4, 0,
            0, 0, 1, 2, 3, 4,
        ];
        check_lengths(&body(&ok)).expect("valid");
        let mut bad = ok;
        bad[18] = 0xFF; // the OW length becomes 255 + ...
        assert!(check_lengths(&body(&bad)).is_err());
        let mut huge = ok;
        huge[18..22].copy_from_slice(&0x7FFF_FFF0_u32.to_le_bytes());
        assert!(check_lengths(&body(&huge)).is_err());
        assert!(check_lengths(&body(&ok[..12])).is_err(), "truncated header");
    }

    #[test]
    fn the_meta_group_ends_where_its_group_length_says() {
        // Found by the decode_dicom fuzz target: an element of another group inside the meta
        // group's length, then the transfer syntax explicit VR big endian. dicom-rs reads the
        // data set as big endian, so the walk must too: there the OW length is 0x0400_0000.
        let mut b = b"DICM".to_vec();
        b.extend_from_slice(&[0x02, 0x00, 0x00, 0x00, b'U', b'L', 4, 0]);
        b.extend_from_slice(&(8 + 2 + 8 + 20_u32).to_le_bytes());
        b.extend_from_slice(&[0x00, 0x00, 0xFD, 0xFF, b'U', b'I', 2, 0, b'1', 0]);
        b.extend_from_slice(&[0x02, 0x00, 0x10, 0x00, b'U', b'I', 20, 0]);
        b.extend_from_slice(b"1.2.840.10008.1.2.2\0");
        b.extend_from_slice(&[0x7F, 0xE0, 0x00, 0x10, b'O', b'W', 0, 0, 4, 0, 0, 0, 1, 2, 3, 4]);
        assert!(check_lengths(&b).is_err(), "walked as little endian");
        let n = b.len();
        b[n - 8..n - 4].copy_from_slice(&[0, 0, 0, 4]);
        check_lengths(&b).expect("a 4-byte big-endian OW");
    }

    #[test]
    fn sequences_are_walked() {
        // (0028,3010) SQ undefined length: one item of undefined length holding (0028,3003)
        // LO "ab", item end, sequence end.
        let mut sq = vec![0x28, 0, 0x10, 0x30, b'S', b'Q', 0, 0, 0xFF, 0xFF, 0xFF, 0xFF];
        sq.extend_from_slice(&[0xFE, 0xFF, 0x00, 0xE0, 0xFF, 0xFF, 0xFF, 0xFF]);
        sq.extend_from_slice(&[0x28, 0, 0x03, 0x30, b'L', b'O', 2, 0, b'a', b'b']);
        sq.extend_from_slice(&[0xFE, 0xFF, 0x0D, 0xE0, 0, 0, 0, 0]);
        sq.extend_from_slice(&[0xFE, 0xFF, 0xDD, 0xE0, 0, 0, 0, 0]);
        check_lengths(&body(&sq)).expect("valid sequence");
        let mut bad = sq.clone();
        bad[26] = 0x7F; // the LO's length: 0x7F02 bytes
        assert!(check_lengths(&body(&bad)).is_err());
        check_lengths(&body(&sq[..sq.len() - 8])).expect("a missing last delimiter is tolerated");
    }
}
