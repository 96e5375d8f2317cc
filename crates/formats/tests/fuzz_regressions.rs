//! Inputs the fuzz targets (fuzz/) once crashed on, minimised, each fed through the same checks
//! as its target: the reader returns an error or a well-formed result, never panics.

use std::path::PathBuf;

use hx_formats::card::ModelCard;
use hx_formats::invariants::check_raster;
use hx_formats::runfile::{self, RunFileError};
use hx_formats::{DicomFile, Window};

fn case(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz_cases").join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// What decode_dicom does, without its size cut (the cases are small).
fn check_dicom(bytes: &[u8]) {
    hx_formats::invariants::check_dicom(bytes, usize::MAX);
}

#[test]
fn dicom_voi_lut_of_zeros_renders_in_unit_range() {
    check_dicom(&case("dicom_value_outside_unit.dcm"));
}

/// What read_card does: a parsed card reads back equal after writing.
fn check_card(bytes: &[u8]) {
    let Ok(c) = ModelCard::parse_bytes(bytes) else { return };
    let again = ModelCard::parse(&c.to_json().expect("json")).expect("a written card parses");
    assert_eq!(again, c, "card changed on a write/read round trip");
}

#[test]
fn card_floats_read_back_exactly() {
    // serde_json without `float_roundtrip` read 0.9445147679324894 one ulp off, so a card
    // written by `train` did not read back the accuracy it held.
    let bytes = case("card_float_roundtrip.json");
    check_card(&bytes);
    let c = ModelCard::parse_bytes(&bytes).expect("card");
    assert_eq!(c.provenance["precision"].as_f64(), Some(0.944_514_767_932_489_4));
}

/// What read_runfile does: an error, or parts whose sizes agree.
fn check_runfile(bytes: &[u8]) -> Result<(), RunFileError> {
    let p = runfile::parse::<serde_json::Value, serde_json::Value>(bytes)?;
    let per = p.height * p.width;
    assert_eq!(p.image.len(), 3 * per, "image length");
    assert!(p.channels == 1 || p.channels == 3, "heatmap channels");
    assert_eq!(p.heatmaps.len(), p.steps.len(), "one heatmap per step");
    assert!(p.heatmaps.iter().all(|h| h.len() == p.channels * per), "heatmap length");
    Ok(())
}

#[test]
fn a_run_file_with_an_empty_image_is_refused() {
    // [3, 0, 3] image and [2, 3, 0, 3] heatmaps: two steps but no heatmap bytes to split.
    assert_eq!(check_runfile(&case("run_empty_image.run")), Err(RunFileError::ImageShape));
}

#[test]
fn a_meta_group_naming_big_endian_after_an_off_group_element_allocates_nothing_big() {
    // The meta group's length covered an element of group 0000, then the transfer syntax
    // explicit VR big endian: the length check walked the data set as little endian, and
    // dicom-rs then allocated a 2.4 GB value. Now the check walks it as dicom-rs reads it.
    let bytes = case("dicom_meta_group_big_endian.dcm");
    let e = DicomFile::open(&bytes).expect_err("a length past the end");
    // Refused by the length check (dicom-rs would say it could not read the value).
    assert!(e.to_string().contains("truncated at byte"), "{e}");
    check_dicom(&bytes);
}

#[test]
fn a_binary_value_of_a_partial_length_allocates_nothing_big() {
    // Columns as FL with 2 bytes: dicom-rs reads 2 / 4 = 0 floats and goes on 2 bytes short of
    // where the length check went, reads a garbage header and allocated 775 MB for it. Now the
    // length check refuses a binary value whose length is not a multiple of its number size.
    let bytes = case("dicom_columns_fl_2_bytes.dcm");
    let e = DicomFile::open(&bytes).expect_err("a partial FL");
    assert!(e.to_string().contains("(0028,0011) has 2 bytes, not a multiple of 4"), "{e}");
    check_dicom(&bytes);
}

#[test]
fn a_value_longer_than_the_file_is_refused_before_dicom_rs_reads_it() {
    // A corrupt data set (a bad VR, delimiters out of place) where dicom-rs's reading and the
    // hand-written length walk part ways: dicom-rs allocated 137 MB for a value in a 719-byte
    // file. Its own token reader now runs first, and a value longer than the file is refused.
    let bytes = case("dicom_parser_out_of_step.dcm");
    let e = DicomFile::open(&bytes).expect_err("a value past the end");
    assert!(e.to_string().contains("the data set has"), "{e}");
    check_dicom(&bytes);
}

#[test]
fn a_deflated_data_set_is_checked_after_inflating() {
    // Transfer syntax deflated explicit VR little endian over bytes that inflate to a header
    // declaring 470 MB: the length walk skipped deflated data sets, and dicom-rs allocated it.
    let bytes = case("dicom_deflated_garbage.dcm");
    let e = DicomFile::open(&bytes).expect_err("a value past the end");
    assert!(e.to_string().contains("the data set has"), "{e}");
    check_dicom(&bytes);
}

#[test]
fn a_valid_deflated_file_still_opens() {
    // pydicom's mono2_u12_rescale_2win.dcm saved deflated: the inflating check passes it.
    let bytes = case("valid_deflated.dcm");
    let file = DicomFile::open(&bytes).expect("a valid deflated file");
    check_raster(&file.render(0, &Window::File).expect("render"), "deflated");
    check_dicom(&bytes);
}
