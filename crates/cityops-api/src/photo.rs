//! Photos as CityOps keeps them: an upload is decoded whole, within limits, turned upright
//! by its EXIF orientation and re-encoded, so what is stored is pixels and nothing else: no
//! EXIF (the phone's position, its make and serial), no trailing bytes of another format
//! hidden behind a valid header (a polyglot), no decompression bomb. The public copy of a
//! reviewed photo is made from that copy, with the regions staff marked (faces, licence
//! plates) blurred beyond recognition.
//!
//! Decoding is CPU work: callers run it on the blocking pool, and at most [`PARALLEL`]
//! photos are decoded at once so a burst of large uploads cannot exhaust memory.

use std::io::Cursor;

use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::PngEncoder;
use image::imageops::FilterType;
use image::{DynamicImage, ImageDecoder, ImageError, ImageFormat, ImageReader, Limits};

use crate::error::{ApiError, ErrorCode};

/// Longest side accepted, in pixels: above any phone camera's (8064 for 48 MP).
pub const MAX_SIDE: u32 = 10_000;
/// Pixels accepted in all: a 50 MP photo decodes to 200 MB of RGBA at most.
pub const MAX_PIXELS: u64 = 50_000_000;
/// What a decoder may allocate for one photo.
const MAX_ALLOC: u64 = 256 * 1024 * 1024;
/// Photos decoded at the same time, server-wide.
pub const PARALLEL: usize = 2;
/// JPEG quality of the stored copies: visually lossless for photos of the street.
const JPEG_QUALITY: u8 = 88;
/// Regions to blur in one review.
pub const MAX_BLUR_REGIONS: usize = 64;

static DECODING: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(PARALLEL);

/// A photo as stored: re-encoded bytes and what they are.
#[derive(Debug, Clone)]
pub struct Clean {
    pub bytes: Vec<u8>,
    pub content_type: &'static str,
    pub width: u32,
    pub height: u32,
}

/// A rectangle in the stored copy's pixels (the photo upright).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Region {
    pub x: u32,
    pub y: u32,
    pub w: u32,
    pub h: u32,
}

/// Decodes an upload, applies its orientation and re-encodes it without metadata. JPEG
/// stays JPEG; PNG and WebP become PNG (lossless stays lossless).
pub async fn clean_upload(body: Vec<u8>) -> Result<Clean, ApiError> {
    let _permit = DECODING.acquire().await.map_err(ApiError::internal)?;
    tokio::task::spawn_blocking(move || clean(&body))
        .await
        .map_err(ApiError::internal)?
}

/// Decodes a stored copy, blurs `regions` and re-encodes it: the public copy.
pub async fn blurred(stored: Vec<u8>, regions: Vec<Region>) -> Result<Clean, ApiError> {
    let _permit = DECODING.acquire().await.map_err(ApiError::internal)?;
    tokio::task::spawn_blocking(move || {
        let (mut image, format) = decode(&stored)?;
        for (index, region) in regions.iter().enumerate() {
            blur_region(&mut image, *region)
                .map_err(|message| ApiError::invalid(format!("blur[{index}]"), message))?;
        }
        encode(&image, format)
    })
    .await
    .map_err(ApiError::internal)?
}

fn clean(body: &[u8]) -> Result<Clean, ApiError> {
    let (image, format) = decode(body)?;
    encode(&image, format)
}

/// The upright image and the format it came in.
fn decode(body: &[u8]) -> Result<(DynamicImage, ImageFormat), ApiError> {
    let mut reader = ImageReader::new(Cursor::new(body))
        .with_guessed_format()
        .map_err(|e| invalid(e.to_string()))?;
    let Some(format) = reader.format() else {
        return Err(unsupported("this content is not a recognised image format"));
    };
    if !matches!(
        format,
        ImageFormat::Jpeg | ImageFormat::Png | ImageFormat::WebP
    ) {
        return Err(unsupported(&format!(
            "this content is {}",
            format
                .extensions_str()
                .first()
                .unwrap_or(&"of another format")
        )));
    }
    if format == ImageFormat::Jpeg {
        let mut image = decode_jpeg(body)?;
        if let Some(orientation) = exif_orientation(body) {
            image.apply_orientation(orientation);
        }
        return Ok((image, format));
    }
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_ALLOC);
    reader.limits(limits);
    let mut decoder = reader.into_decoder().map_err(image_error)?;
    let (width, height) = decoder.dimensions();
    if width == 0 || height == 0 {
        return Err(invalid("the image has no pixels".into()));
    }
    if u64::from(width) * u64::from(height) > MAX_PIXELS {
        return Err(too_large(width, height));
    }
    // Read before decoding (the decoder consumes itself); a broken EXIF block only loses the
    // orientation, never the photo.
    let orientation = exif_orientation(body).or_else(|| decoder.orientation().ok());
    let mut image = DynamicImage::from_decoder(decoder).map_err(image_error)?;
    if let Some(orientation) = orientation {
        image.apply_orientation(orientation);
    }
    Ok((image, format))
}

/// JPEG in strict mode: a truncated or corrupt stream is an error, not grey blocks.
fn decode_jpeg(body: &[u8]) -> Result<DynamicImage, ApiError> {
    use zune_core::bytestream::ZCursor;
    use zune_core::colorspace::ColorSpace;
    use zune_core::options::DecoderOptions;
    use zune_jpeg::errors::DecodeErrors;

    // Any size a JPEG can state passes the header, to be refused below with the size named;
    // nothing is allocated for pixels until then.
    let options = DecoderOptions::default()
        .set_strict_mode(true)
        .set_max_width(usize::from(u16::MAX))
        .set_max_height(usize::from(u16::MAX))
        .jpeg_set_out_colorspace(ColorSpace::RGB);
    let mut decoder = zune_jpeg::JpegDecoder::new_with_options(ZCursor::new(body), options);
    let failed = |error: DecodeErrors| match error {
        DecodeErrors::LargeDimensions(_) => too_large_unknown(),
        DecodeErrors::Unsupported(scheme) => unsupported(&format!("this JPEG uses {scheme:?}")),
        other => invalid(other.to_string()),
    };
    decoder.decode_headers().map_err(failed)?;
    let (width, height) = decoder
        .dimensions()
        .ok_or_else(|| invalid("the JPEG has no frame".into()))?;
    let (width, height) = (
        u32::try_from(width).map_err(|_| too_large_unknown())?,
        u32::try_from(height).map_err(|_| too_large_unknown())?,
    );
    if width == 0 || height == 0 {
        return Err(invalid("the image has no pixels".into()));
    }
    if width > MAX_SIDE || height > MAX_SIDE || u64::from(width) * u64::from(height) > MAX_PIXELS {
        return Err(too_large(width, height));
    }
    let pixels = decoder.decode().map_err(failed)?;
    image::RgbImage::from_raw(width, height, pixels)
        .map(DynamicImage::ImageRgb8)
        .ok_or_else(|| invalid("the JPEG decoded to fewer pixels than its size".into()))
}

fn too_large_unknown() -> ApiError {
    ApiError::new(
        ErrorCode::ImageTooLarge,
        format!(
            "photos are at most {MAX_SIDE} pixels a side and {} megapixels",
            MAX_PIXELS / 1_000_000
        ),
    )
    .with_field("body")
}

/// The orientation tag of the primary image, read with kamadak-exif from any container it
/// knows (JPEG APP1, PNG eXIf, WebP EXIF chunk).
fn exif_orientation(body: &[u8]) -> Option<image::metadata::Orientation> {
    let exif = exif::Reader::new()
        .read_from_container(&mut Cursor::new(body))
        .ok()?;
    let value = exif
        .get_field(exif::Tag::Orientation, exif::In::PRIMARY)?
        .value
        .get_uint(0)?;
    image::metadata::Orientation::from_exif(u8::try_from(value).ok()?)
}

fn encode(image: &DynamicImage, source: ImageFormat) -> Result<Clean, ApiError> {
    let mut bytes = Vec::new();
    let content_type = if source == ImageFormat::Jpeg {
        // JPEG has no alpha; a grey JPEG stays grey.
        let image = if image.color().has_color() {
            DynamicImage::ImageRgb8(image.to_rgb8())
        } else {
            DynamicImage::ImageLuma8(image.to_luma8())
        };
        image
            .write_with_encoder(JpegEncoder::new_with_quality(&mut bytes, JPEG_QUALITY))
            .map_err(ApiError::internal)?;
        "image/jpeg"
    } else {
        let image = match (image.color().has_alpha(), image.color().has_color()) {
            (true, _) => DynamicImage::ImageRgba8(image.to_rgba8()),
            (false, true) => DynamicImage::ImageRgb8(image.to_rgb8()),
            (false, false) => DynamicImage::ImageLuma8(image.to_luma8()),
        };
        image
            .write_with_encoder(PngEncoder::new(&mut bytes))
            .map_err(ApiError::internal)?;
        "image/png"
    };
    Ok(Clean {
        bytes,
        content_type,
        width: image.width(),
        height: image.height(),
    })
}

/// Pixelates the region so coarsely that a face or a plate in it cannot be read, then
/// smooths the blocks: blurring alone with a small radius can be partly undone.
fn blur_region(image: &mut DynamicImage, region: Region) -> Result<(), String> {
    let (width, height) = (image.width(), image.height());
    if region.w == 0 || region.h == 0 {
        return Err("a region to blur has a width and a height of at least 1 pixel".into());
    }
    if region.x >= width || region.y >= height {
        return Err(format!(
            "the region starts outside the photo, which is {width}x{height} pixels"
        ));
    }
    let w = region.w.min(width - region.x);
    let h = region.h.min(height - region.y);
    let block = (w.max(h) / 6).max(8);
    let small_w = w.div_ceil(block).max(1);
    let small_h = h.div_ceil(block).max(1);
    let crop = image.crop_imm(region.x, region.y, w, h);
    let small = crop.resize_exact(small_w, small_h, FilterType::Triangle);
    let back = small.resize_exact(w, h, FilterType::Triangle);
    image::imageops::replace(image, &back, i64::from(region.x), i64::from(region.y));
    Ok(())
}

fn image_error(error: ImageError) -> ApiError {
    match error {
        ImageError::Limits(limit) => ApiError::new(
            ErrorCode::ImageTooLarge,
            format!(
                "the image is too large to decode ({limit}); photos are at most {MAX_SIDE} pixels a side and {} megapixels",
                MAX_PIXELS / 1_000_000
            ),
        )
        .with_field("body"),
        ImageError::Unsupported(unsupported_error) => unsupported(&unsupported_error.to_string()),
        other => invalid(other.to_string()),
    }
}

fn too_large(width: u32, height: u32) -> ApiError {
    ApiError::new(
        ErrorCode::ImageTooLarge,
        format!(
            "the image is {width}x{height} pixels; photos are at most {MAX_SIDE} pixels a side and {} megapixels",
            MAX_PIXELS / 1_000_000
        ),
    )
    .with_field("body")
}

fn unsupported(what: &str) -> ApiError {
    ApiError::new(
        ErrorCode::UnsupportedImageFormat,
        format!("photos must be JPEG, PNG or WebP images; {what}"),
    )
    .with_field("body")
}

fn invalid(why: String) -> ApiError {
    ApiError::new(
        ErrorCode::InvalidImage,
        format!("the image could not be decoded whole: {why}"),
    )
    .with_field("body")
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{Rgb, RgbImage};

    fn jpeg(width: u32, height: u32) -> Vec<u8> {
        let image = RgbImage::from_fn(width, height, |x, y| {
            Rgb([
                (x * 7 % 256) as u8,
                (y * 5 % 256) as u8,
                ((x + y) % 256) as u8,
            ])
        });
        let mut bytes = Vec::new();
        DynamicImage::ImageRgb8(image)
            .write_with_encoder(JpegEncoder::new_with_quality(&mut bytes, 90))
            .unwrap();
        bytes
    }

    /// An APP1 EXIF segment whose IFD0 holds only the orientation tag.
    fn with_orientation(jpeg: &[u8], orientation: u16) -> Vec<u8> {
        let mut tiff = b"MM\0\x2a\0\0\0\x08".to_vec();
        tiff.extend([0, 1]); // one entry
        tiff.extend([0x01, 0x12, 0, 3, 0, 0, 0, 1]);
        tiff.extend(orientation.to_be_bytes());
        tiff.extend([0, 0]);
        tiff.extend([0, 0, 0, 0]); // no next IFD
        let mut app1 = b"Exif\0\0".to_vec();
        app1.extend(tiff);
        let mut out = jpeg[..2].to_vec();
        out.extend([0xFF, 0xE1]);
        out.extend(u16::try_from(app1.len() + 2).unwrap().to_be_bytes());
        out.extend(app1);
        out.extend(&jpeg[2..]);
        out
    }

    #[test]
    fn orientation_is_applied_and_exif_is_gone() {
        let upload = with_orientation(&jpeg(40, 20), 6);
        assert!(exif::Reader::new()
            .read_from_container(&mut Cursor::new(&upload))
            .is_ok());
        let clean = clean(&upload).unwrap();
        assert_eq!((clean.width, clean.height), (20, 40), "rotated upright");
        assert_eq!(clean.content_type, "image/jpeg");
        assert!(exif::Reader::new()
            .read_from_container(&mut Cursor::new(&clean.bytes))
            .is_err());
    }

    #[test]
    fn a_region_is_blurred_and_the_rest_kept() {
        let image = RgbImage::from_fn(64, 64, |x, y| {
            if (x + y) % 2 == 0 {
                Rgb([255, 255, 255])
            } else {
                Rgb([0, 0, 0])
            }
        });
        let mut image = DynamicImage::ImageRgb8(image);
        let before = image.clone();
        blur_region(
            &mut image,
            Region {
                x: 0,
                y: 0,
                w: 32,
                h: 32,
            },
        )
        .unwrap();
        let (a, b) = (image.to_rgb8(), before.to_rgb8());
        // The checkerboard averages to grey inside, stays outside.
        let inside = a.get_pixel(10, 10).0[0];
        assert!((64..=192).contains(&inside), "{inside}");
        assert_eq!(a.get_pixel(50, 50), b.get_pixel(50, 50));
        let outside = Region {
            x: 64,
            y: 0,
            w: 4,
            h: 4,
        };
        assert!(blur_region(&mut image, outside).is_err());
    }

    #[test]
    fn garbage_truncation_and_bombs_are_told_apart() {
        let code = |bytes: &[u8]| clean(bytes).unwrap_err().code;
        assert_eq!(
            code(b"<html>not an image</html>"),
            ErrorCode::UnsupportedImageFormat
        );
        let whole = jpeg(64, 64);
        assert_eq!(code(&whole[..whole.len() / 3]), ErrorCode::InvalidImage);
        let mut polyglot = b"\x89PNG\r\n\x1a\n".to_vec();
        polyglot.extend(b"<script>alert(1)</script>");
        assert_eq!(code(&polyglot), ErrorCode::InvalidImage);
        // A PNG header claiming 60,000 x 60,000 pixels.
        let mut bomb = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
        let ihdr = [
            &60_000u32.to_be_bytes()[..],
            &60_000u32.to_be_bytes(),
            &[8, 2, 0, 0, 0],
        ]
        .concat();
        bomb.extend(&ihdr);
        let mut crc_input = b"IHDR".to_vec();
        crc_input.extend(&ihdr);
        bomb.extend(crc32(&crc_input).to_be_bytes());
        assert_eq!(code(&bomb), ErrorCode::ImageTooLarge);
        // A JPEG whose frame header claims 60,000 x 60,000 pixels.
        let mut bomb = jpeg(16, 16);
        let sof = bomb.windows(2).position(|w| w == [0xFF, 0xC0]).unwrap();
        bomb[sof + 5..sof + 9].copy_from_slice(&[0xEA, 0x60, 0xEA, 0x60]);
        assert_eq!(code(&bomb), ErrorCode::ImageTooLarge);
        let mut odd = jpeg(16, 16);
        odd[sof + 5..sof + 9].copy_from_slice(&[0x0F, 0x00, 0x30, 0x00]);
        assert_eq!(code(&odd), ErrorCode::ImageTooLarge, "3840 x 12288");
    }

    fn crc32(bytes: &[u8]) -> u32 {
        let mut crc = 0xFFFF_FFFFu32;
        for &byte in bytes {
            crc ^= u32::from(byte);
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ 0xEDB8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }
}
