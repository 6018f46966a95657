//! Photos: what is stored is decoded and re-encoded (no EXIF position or device survives, a
//! polyglot, truncated or bomb image is refused and nothing is kept), a citizen's photo is
//! public only after an operator or shift lead reviews it, with the regions they mark
//! blurred, and only to the holder of the follow token.

use std::io::Cursor;

use cityops_test_support::{on_both_backends, TestApp};
use image::codecs::jpeg::JpegEncoder;
use image::{DynamicImage, Rgb, RgbImage};
use serde_json::json;

on_both_backends!(
    a_citizen_photo_loses_its_exif_and_is_public_only_once_reviewed,
    bad_images_are_refused_and_leave_nothing_behind,
);

/// A photo of the street: a pattern fine enough that blurring shows.
pub fn jpeg(width: u32, height: u32) -> Vec<u8> {
    let image = RgbImage::from_fn(width, height, |x, y| {
        if (x / 2 + y / 2) % 2 == 0 {
            Rgb([250, 250, 250])
        } else {
            Rgb([10, 20, 30])
        }
    });
    let mut bytes = Vec::new();
    DynamicImage::ImageRgb8(image)
        .write_with_encoder(JpegEncoder::new_with_quality(&mut bytes, 95))
        .unwrap();
    bytes
}

/// `jpeg` with an APP1 EXIF segment as a phone writes it: the camera's make and the GPS
/// position (31°14'12.34"N).
pub fn jpeg_with_gps(width: u32, height: u32) -> Vec<u8> {
    fn entry(tag: u16, kind: u16, count: u32, value: [u8; 4]) -> Vec<u8> {
        [
            &tag.to_be_bytes()[..],
            &kind.to_be_bytes(),
            &count.to_be_bytes(),
            &value,
        ]
        .concat()
    }
    let mut tiff = b"MM\0\x2a\0\0\0\x08".to_vec();
    // IFD0 at 8: Make (ASCII, at 38) and the GPS IFD pointer (at 46).
    tiff.extend(2u16.to_be_bytes());
    tiff.extend(entry(0x010F, 2, 8, 38u32.to_be_bytes()));
    tiff.extend(entry(0x8825, 4, 1, 46u32.to_be_bytes()));
    tiff.extend(0u32.to_be_bytes());
    tiff.extend(b"CityCam\0");
    // GPS IFD at 46: latitude reference inline, latitude (3 rationals, at 76).
    tiff.extend(2u16.to_be_bytes());
    tiff.extend(entry(0x0001, 2, 2, *b"N\0\0\0"));
    tiff.extend(entry(0x0002, 5, 3, 76u32.to_be_bytes()));
    tiff.extend(0u32.to_be_bytes());
    for (numerator, denominator) in [(31u32, 1u32), (14, 1), (1234, 100)] {
        tiff.extend(numerator.to_be_bytes());
        tiff.extend(denominator.to_be_bytes());
    }
    assert_eq!(tiff.len(), 100);
    let mut app1 = b"Exif\0\0".to_vec();
    app1.extend(tiff);
    let plain = jpeg(width, height);
    let mut out = plain[..2].to_vec();
    out.extend([0xFF, 0xE1]);
    out.extend(u16::try_from(app1.len() + 2).unwrap().to_be_bytes());
    out.extend(app1);
    out.extend(&plain[2..]);
    out
}

/// The EXIF fields of an image, empty when it has none.
fn exif_fields(bytes: &[u8]) -> Vec<String> {
    match exif::Reader::new().read_from_container(&mut Cursor::new(bytes)) {
        Ok(exif) => exif.fields().map(|f| f.tag.to_string()).collect(),
        Err(_) => Vec::new(),
    }
}

async fn get_bytes(app: &TestApp, who: Option<&str>, path: &str) -> (u16, Vec<u8>) {
    let mut request = app.client.get(format!("{}{path}", app.base));
    if let Some(who) = who {
        request = request.bearer_auth(&app.tokens[who]);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.bytes().await.unwrap().to_vec())
}

async fn citizen_report(app: &TestApp) -> (String, String) {
    let (status, receipt) = app
        .public_report(json!({
            "description": "人行道上的共享单车倒了一排",
            "location": {"lon": 121.4837, "lat": 31.2369},
        }))
        .await;
    assert_eq!(status, 201, "{receipt}");
    (
        receipt["number"].as_str().unwrap().to_owned(),
        receipt["follow_token"].as_str().unwrap().to_owned(),
    )
}

fn files_under(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .flatten()
        .flat_map(|e| {
            if e.path().is_dir() {
                files_under(&e.path())
            } else {
                vec![e.path()]
            }
        })
        .collect()
}

async fn a_citizen_photo_loses_its_exif_and_is_public_only_once_reviewed(app: &TestApp) {
    let (number, token) = citizen_report(app).await;
    let upload = jpeg_with_gps(96, 64);
    let fields = exif_fields(&upload);
    assert!(
        fields.iter().any(|f| f == "GPSLatitude") && fields.iter().any(|f| f == "Make"),
        "the upload carries a position and a device: {fields:?}"
    );
    let (status, receipt) = app
        .post_raw(
            None,
            &format!("/api/v1/public/cases/{number}/photos?token={token}"),
            "image/jpeg",
            upload.clone(),
        )
        .await;
    assert_eq!(status, 201, "{receipt}");
    let id = receipt["id"].as_str().unwrap().to_owned();

    // Staff who handle the case see it, pending review, without EXIF.
    let (status, list) = app
        .get(
            Some("operator"),
            &format!("/api/v1/cases/{number}/attachments"),
        )
        .await;
    assert_eq!(status, 200, "{list}");
    let listed = &list.as_array().unwrap()[0];
    assert_eq!(
        (&listed["id"], &listed["review"]),
        (&json!(id), &json!("pending"))
    );
    assert_eq!(listed["content_type"], "image/jpeg");
    let (status, stored) =
        get_bytes(app, Some("operator"), &format!("/api/v1/attachments/{id}")).await;
    assert_eq!(status, 200);
    assert_eq!(
        exif_fields(&stored),
        Vec::<String>::new(),
        "no EXIF in the stored copy"
    );
    let decoded = image::load_from_memory(&stored).unwrap();
    assert_eq!((decoded.width(), decoded.height()), (96, 64));
    for file in files_under(&app.data_dir.join("attachments")) {
        let bytes = std::fs::read(&file).unwrap();
        assert!(exif_fields(&bytes).is_empty(), "{file:?} has EXIF");
        assert!(
            !bytes.windows(7).any(|w| w == b"CityCam"),
            "{file:?} names the device"
        );
    }
    // Roles that do not work cases, and staff of another district, do not get it.
    for who in ["evaluator", "admin", "auditor", "steward"] {
        let (status, _) = get_bytes(app, Some(who), &format!("/api/v1/attachments/{id}")).await;
        assert_eq!(status, 403, "{who} reads the photo as taken");
        let (status, _) = app
            .get(Some(who), &format!("/api/v1/cases/{number}/attachments"))
            .await;
        assert_eq!(status, 403, "{who} lists the photos");
    }
    let (status, _) = get_bytes(
        app,
        Some("xuhui_operator"),
        &format!("/api/v1/attachments/{id}"),
    )
    .await;
    assert_eq!(status, 404);
    let (status, _) = get_bytes(app, None, &format!("/api/v1/attachments/{id}")).await;
    assert_eq!(status, 401);

    // Not public before review: neither listed nor served, even with the token.
    let public = format!("/api/v1/public/cases/{number}/photos/{id}");
    let (_, view) = app
        .get(
            None,
            &format!("/api/v1/public/cases/{number}?token={token}"),
        )
        .await;
    assert_eq!(view["photos"], json!([]), "{view}");
    let (status, _) = get_bytes(app, None, &format!("{public}?token={token}")).await;
    assert_eq!(status, 404);

    // Only operators and shift leads review; the others are refused and nothing changes.
    let review = format!("/api/v1/attachments/{id}/review");
    let decision = json!({"publish": true, "blur": [{"x": 0, "y": 0, "w": 48, "h": 32}]});
    for who in [
        "inspector",
        "dispatcher",
        "water",
        "leader",
        "evaluator",
        "admin",
        "auditor",
    ] {
        let (status, body) = app.post_json(Some(who), &review, decision.clone()).await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (403, Some("forbidden")),
            "{who}: {body}"
        );
    }
    let (status, _) = app
        .post_json(Some("xuhui_operator"), &review, decision.clone())
        .await;
    assert_eq!(status, 404, "outside the reviewer's jurisdiction");
    let (status, body) = app
        .post_json(
            Some("operator"),
            &review,
            json!({"publish": true, "blur": [{"x": 500, "y": 0, "w": 10, "h": 10}]}),
        )
        .await;
    assert_eq!(
        (status, body["error"]["field"].as_str()),
        (422, Some("blur[0]")),
        "{body}"
    );
    let (status, body) = app
        .post_json(Some("operator"), &review, json!({"publish": "yes"}))
        .await;
    assert_eq!(
        (status, body["error"]["field"].as_str()),
        (422, Some("publish"))
    );
    let (_, list) = app
        .get(
            Some("operator"),
            &format!("/api/v1/cases/{number}/attachments"),
        )
        .await;
    assert_eq!(
        list[0]["review"], "pending",
        "refused reviews change nothing"
    );
    assert_eq!(
        files_under(&app.data_dir.join("attachments/public")),
        Vec::<std::path::PathBuf>::new()
    );

    // Published with the top left quarter blurred.
    let (status, reviewed) = app.post_json(Some("operator"), &review, decision).await;
    assert_eq!(status, 200, "{reviewed}");
    assert_eq!(reviewed["review"], "published");
    assert_eq!(
        reviewed["blur"],
        json!([{"x": 0, "y": 0, "w": 48, "h": 32}])
    );
    let (_, view) = app
        .get(
            None,
            &format!("/api/v1/public/cases/{number}?token={token}"),
        )
        .await;
    assert_eq!(view["photos"], json!([id]));
    let (_, view) = app
        .get(None, &format!("/api/v1/public/cases/{number}"))
        .await;
    assert_eq!(
        view["photos"],
        json!([]),
        "the number alone shows no photos"
    );
    let (status, _) = get_bytes(app, None, &public).await;
    assert_eq!(status, 403, "no token");
    let (status, _) = get_bytes(app, None, &format!("{public}?token=wrong")).await;
    assert_eq!(status, 403);
    let (status, shown) = get_bytes(app, None, &format!("{public}?token={token}")).await;
    assert_eq!(status, 200);
    assert!(exif_fields(&shown).is_empty());
    let (shown, stored) = (
        image::load_from_memory(&shown).unwrap().to_rgb8(),
        decoded.to_rgb8(),
    );
    let difference = |x0: u32, y0: u32, x1: u32, y1: u32| {
        let mut total = 0u64;
        for y in y0..y1 {
            for x in x0..x1 {
                let (a, b) = (shown.get_pixel(x, y).0, stored.get_pixel(x, y).0);
                total += (0..3).map(|c| u64::from(a[c].abs_diff(b[c]))).sum::<u64>();
            }
        }
        total / u64::from((x1 - x0) * (y1 - y0))
    };
    let inside = difference(4, 4, 44, 28);
    let outside = difference(52, 36, 92, 60);
    assert!(inside > 100, "the region is blurred: {inside}");
    assert!(outside < 40, "the rest is kept: {outside}");
    // Another case's token opens nothing of this one.
    let (other, other_token) = citizen_report(app).await;
    let (status, _) = get_bytes(
        app,
        None,
        &format!("/api/v1/public/cases/{other}/photos/{id}?token={other_token}"),
    )
    .await;
    assert_eq!(status, 404);

    // Kept private again: gone from the public page, its public file deleted.
    let (status, _) = app
        .post_json(Some("lead"), &review, json!({"publish": false}))
        .await;
    assert_eq!(status, 200);
    let (status, _) = get_bytes(app, None, &format!("{public}?token={token}")).await;
    assert_eq!(status, 404);
    assert_eq!(
        files_under(&app.data_dir.join("attachments/public")),
        Vec::<std::path::PathBuf>::new()
    );
    let (_, audit) = app
        .get(Some("auditor"), "/api/v1/audit?action=attachment.")
        .await;
    let actions = audit.to_string();
    assert!(
        actions.contains("attachment.published") && actions.contains("attachment.private"),
        "reviews are on the audit log: {actions}"
    );
}

async fn bad_images_are_refused_and_leave_nothing_behind(app: &TestApp) {
    let case = app.report("operator", "hotline").await;
    let id = case["id"].as_str().unwrap().to_owned();
    let (number, token) = citizen_report(app).await;
    let before = app.timeline(&case).await;

    let whole = {
        let mut png = Vec::new();
        DynamicImage::ImageRgb8(RgbImage::from_pixel(64, 64, Rgb([1, 2, 3])))
            .write_to(&mut Cursor::new(&mut png), image::ImageFormat::Png)
            .unwrap();
        png
    };
    let polyglot = [
        &b"\x89PNG\r\n\x1a\n"[..],
        b"<html><script>alert(document.cookie)</script>",
    ]
    .concat();
    let truncated = whole[..whole.len() - 20].to_vec();
    // A PNG header claiming 60,000 x 60,000 pixels (10.8 GB decoded) in 33 bytes.
    let bomb = {
        let ihdr = [
            &60_000u32.to_be_bytes()[..],
            &60_000u32.to_be_bytes(),
            &[8, 2, 0, 0, 0],
        ]
        .concat();
        let mut chunk = b"IHDR".to_vec();
        chunk.extend(&ihdr);
        let crc = crc32(&chunk);
        [
            &b"\x89PNG\r\n\x1a\n\0\0\0\x0d"[..],
            &chunk,
            &crc.to_be_bytes(),
        ]
        .concat()
    };
    let gif = b"GIF89a\x01\0\x01\0\x80\0\0\0\0\0\xff\xff\xff!\xf9\x04\x01\0\0\0\0,\0\0\0\0\x01\0\x01\0\0\x02\x02D\x01\0;".to_vec();
    let cases: [(&str, Vec<u8>, u16, &str); 5] = [
        ("polyglot", polyglot, 422, "invalid_image"),
        ("truncated", truncated, 422, "invalid_image"),
        ("bomb", bomb, 413, "image_too_large"),
        ("gif", gif, 415, "unsupported_image_format"),
        (
            "script",
            b"#!/bin/sh\nrm -rf /\n".to_vec(),
            415,
            "unsupported_image_format",
        ),
    ];
    for (name, bytes, status, code) in cases {
        for path in [
            format!("/api/v1/cases/{id}/attachments?version=1"),
            format!("/api/v1/public/cases/{number}/photos?token={token}"),
        ] {
            let who = path
                .contains("/public/")
                .then_some(())
                .map_or(Some("operator"), |()| None);
            let (got, body) = app.post_raw(who, &path, "image/png", bytes.clone()).await;
            assert_eq!(
                (
                    got,
                    body["error"]["code"].as_str(),
                    body["error"]["field"].as_str()
                ),
                (status, Some(code), Some("body")),
                "{name} at {path}: {body}"
            );
        }
    }
    assert_eq!(
        app.timeline(&case).await,
        before,
        "nothing happened to the case"
    );
    let (_, list) = app
        .get(Some("operator"), &format!("/api/v1/cases/{id}/attachments"))
        .await;
    assert_eq!(list, json!([]));
    let (_, list) = app
        .get(
            Some("operator"),
            &format!("/api/v1/cases/{number}/attachments"),
        )
        .await;
    assert_eq!(list, json!([]));
    assert_eq!(
        files_under(&app.data_dir.join("attachments")),
        Vec::<std::path::PathBuf>::new(),
        "no file was left behind"
    );

    // A valid JPEG with a payload after its end is kept as its pixels only.
    let payload = b"PK\x03\x04<?php system($_GET['c']); ?>";
    let hidden = [jpeg(32, 32).as_slice(), payload].concat();
    let (status, attached) = app
        .post_raw(
            Some("operator"),
            &format!("/api/v1/cases/{id}/attachments?version=1"),
            "image/jpeg",
            hidden,
        )
        .await;
    assert_eq!(status, 201, "{attached}");
    let (_, stored) = get_bytes(
        app,
        Some("operator"),
        &format!("/api/v1/attachments/{}", attached["id"].as_str().unwrap()),
    )
    .await;
    assert!(
        !stored.windows(5).any(|w| w == b"<?php"),
        "the payload is gone"
    );
    assert!(image::load_from_memory(&stored).is_ok());
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
