"""Parsing mail as it arrives in the real world: encodings, MIME shapes, attachments, hostile HTML, junk."""

from __future__ import annotations

import base64
import os
import time
from email.message import EmailMessage

import pytest

from channels.email.parse import Limits, parse
from contact_center.exceptions import Unparseable


def mail(body: str = "Halo, pesanan saya belum sampai.", **headers: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = headers.pop("From", "Budi Santoso <Budi@Example.co.id>")
    msg["To"] = headers.pop("To", "support@shop.example")
    msg["Subject"] = headers.pop("Subject", "Pesanan #1234")
    msg["Message-ID"] = headers.pop("Message_ID", "<abc.123@mail.example.co.id>")
    msg["Date"] = headers.pop("Date", "Mon, 23 Nov 2026 09:15:00 +0700")
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    msg.set_content(body)
    return msg


def test_a_plain_mail_gives_its_sender_threading_headers_date_and_text():
    """Addresses lower-cased, encoded names and subjects decoded, In-Reply-To and References kept in order."""
    msg = mail(
        "Halo, pesanan saya belum sampai.\n\nPada Sen, 23 Nov 2026 pukul 08.00 Toko <help@shop.example> menulis:\n"
        "> Pesanan Anda sudah dikirim.\n",
        Subject="Re: Pesanan saya – belum sampai 📦",
        In_Reply_To="<first@shop.example>",
        References="<zero@shop.example> <first@shop.example>",
        Cc="Ani <ani@example.co.id>, rudi@example.co.id",
    )
    parsed = parse(msg.as_bytes())
    assert (parsed.from_addr, parsed.from_name) == ("budi@example.co.id", "Budi Santoso")
    assert parsed.subject == "Re: Pesanan saya – belum sampai 📦"
    assert parsed.message_id == "<abc.123@mail.example.co.id>" and parsed.message_id_given
    assert parsed.in_reply_to == ("<first@shop.example>",)
    assert parsed.references == ("<zero@shop.example>", "<first@shop.example>")
    assert parsed.cc == ("ani@example.co.id", "rudi@example.co.id") and parsed.to == ("support@shop.example",)
    assert parsed.date == 1795400100.0  # 2026-11-23 02:15 UTC
    assert parsed.visible_text == "Halo, pesanan saya belum sampai.\n"
    assert "Pesanan Anda sudah dikirim" in parsed.folded_text
    assert parsed.html is None and parsed.attachments == () and parsed.problems == ()


def test_hostile_html_is_made_safe_and_its_text_kept():
    """Scripts, handlers, styles, forms and remote images go; inline images and ordinary links stay."""
    msg = mail("Lihat versi HTML.")
    msg.add_alternative(
        "<html><head><style>body{background:url(https://track.example/p.gif)}</style>"
        "<script>alert(1)</script></head><body onload='steal()'>"
        "<p style='color:red' onclick='x()'>Halo <b>Budi</b></p>"
        "<img src='https://track.example/open.gif?u=1' width=1><img src='cid:logo@shop'>"
        "<a href='javascript:alert(1)'>klik</a> <a href='https://shop.example/o/1'>pesanan</a>"
        "<form action='https://evil.example'><input name=p></form><iframe src='https://evil.example'></iframe>"
        "<svg onload=alert(1)></svg><a href='cid:logo@shop'>x</a></body></html>",
        subtype="html",
    )
    parsed = parse(msg.as_bytes())
    html = parsed.html or ""
    for bad in ("script", "alert", "onload", "onclick", "style", "track.example", "javascript", "form", "iframe",
                "input", "svg", "evil.example"):  # fmt: skip
        assert bad not in html, bad
    assert '<img src="cid:logo@shop">' in html
    assert '<a href="https://shop.example/o/1" rel="noopener noreferrer">pesanan</a>' in html
    assert "<b>Budi</b>" in html
    assert parsed.text == "Lihat versi HTML.\n"  # the text part is the text


def test_an_html_only_mail_gets_its_text_from_the_html():
    """No text part: the text is made from the HTML, with its lines and lists."""
    msg = mail()
    msg.set_content("<p>Halo,</p><ul><li>pesanan 1</li><li>pesanan 2</li></ul><p>Terima kasih</p>", subtype="html")
    parsed = parse(msg.as_bytes())
    assert "Halo," in parsed.text and "pesanan 1" in parsed.text and "Terima kasih" in parsed.text
    assert parsed.text.index("pesanan 1") < parsed.text.index("pesanan 2")


def raw_mail(body: bytes, content_type: bytes = b"text/plain; charset=utf-8", extra: bytes = b"") -> bytes:
    return (
        b"From: Budi <budi@example.co.id>\r\nTo: support@shop.example\r\nSubject: test\r\n"
        b"Message-ID: <raw@example.co.id>\r\nContent-Type: " + content_type + b"\r\n" + extra + b"\r\n" + body
    )


@pytest.mark.parametrize(
    ("content_type", "body", "problem"),
    [
        (b"text/plain; charset=utf-8", "Harga naik – café € 10".encode("cp1252"), "not utf-8"),
        (b"text/plain; charset=x-unknown-8", "Harga naik – café € 10".encode("cp1252"), "unknown charset"),
        (b"text/plain", "Harga naik – café € 10".encode("cp1252"), None),
        (b"text/plain; charset=iso-8859-1", "Harga naik café".encode("latin-1"), None),
        (b"text/plain; charset=windows-1252", "Harga naik – café € 10".encode("cp1252"), None),
        (b"text/plain; charset=utf-8", "Harga naik – café € 10".encode(), None),
    ],
)
def test_text_in_any_charset_declared_wrongly_or_not_at_all_is_read(content_type: bytes, body: bytes, problem):
    """A declared charset is used when the bytes fit it; otherwise the bytes say what they are."""
    parsed = parse(raw_mail(body, content_type))
    assert "café" in parsed.text and "Harga naik" in parsed.text
    if problem:
        assert any(problem in p for p in parsed.problems), parsed.problems


def test_eight_bit_headers_and_encoded_words_in_any_charset_are_read():
    """Raw UTF-8 bytes in a header, and RFC 2047 words in ISO-8859-1 and Windows-1252."""
    raw = (
        "From: =?iso-8859-1?q?Andr=E9?= <andre@example.fr>\r\nTo: support@shop.example\r\n"
        "Subject: Pesanan saya – sudah dibayar\r\nMessage-ID: <h@x>\r\n\r\nisi\r\n"
    ).encode()
    parsed = parse(raw)
    assert parsed.from_name == "André" and parsed.subject == "Pesanan saya – sudah dibayar"
    bad = b"From: x@example.com\r\nSubject: =?x-nonsense?q?abc?=\r\nMessage-ID: <b@x>\r\n\r\nisi\r\n"
    parsed = parse(bad)
    assert parsed.subject and any("Subject" in p for p in parsed.problems)


def test_attachments_and_inline_images_are_kept_and_a_large_one_recorded_with_its_reason():
    """A PDF kept, an inline image with its Content-ID, a file over the limit named with its size, not dropped."""
    msg = mail("Bukti transfer terlampir.")
    msg.add_attachment(b"%PDF-1.4 receipt", maintype="application", subtype="pdf", filename="bukti transfer.pdf")
    msg.add_attachment(b"\x89PNG" + b"0" * 100, maintype="image", subtype="png", filename="logo.png", cid="<logo@x>")
    msg.add_attachment(os.urandom(2000), maintype="video", subtype="mp4", filename="unboxing.mp4")
    parsed = parse(msg.as_bytes(), Limits(attachment_bytes=1000))
    pdf, logo, video = parsed.attachments
    assert (pdf.filename, pdf.content_type, pdf.data) == ("bukti transfer.pdf", "application/pdf", b"%PDF-1.4 receipt")
    assert logo.content_id == "logo@x" and logo.data is not None and logo.size == 104
    assert video.data is None and video.size == 2000 and video.refused is not None and "over the limit" in video.refused
    assert parsed.text == "Bukti transfer terlampir.\n"


def test_a_forwarded_mail_inside_is_an_attachment():
    """A message/rfc822 part is kept as an .eml attachment, and its text does not become the customer's words."""
    inner = mail("Isi email yang diteruskan", Subject="Asli", Message_ID="<inner@x>")
    outer = mail("Lihat lampiran.")
    outer.add_attachment(inner)
    parsed = parse(outer.as_bytes())
    assert parsed.text == "Lihat lampiran.\n"
    (att,) = parsed.attachments
    assert att.content_type == "message/rfc822" and att.data is not None and b"Isi email yang diteruskan" in att.data


def test_broken_mime_is_read_as_far_as_it_goes_with_its_defects_named():
    """A multipart that never closes, or has no boundary: its text is still read, and the defects listed."""
    unclosed = raw_mail(
        b"--XYZ\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nBagian pertama\r\n--XYZ\r\n"
        b"Content-Type: text/plain\r\n\r\nBagian kedua tanpa akhir",
        b'multipart/mixed; boundary="XYZ"',
    )
    parsed = parse(unclosed)
    assert "Bagian pertama" in parsed.text and parsed.problems
    no_boundary = raw_mail(b"Teks saja\r\n", b"multipart/mixed")
    parsed = parse(no_boundary)
    assert "Teks saja" in parsed.text and any("Boundary" in p for p in parsed.problems)


def test_a_mail_without_message_id_gets_one_from_its_bytes():
    """The same bytes always get the same made-up id (a repeat is recognised); different bytes a different one."""
    raw = b"From: budi@example.co.id\r\nSubject: tanpa id\r\n\r\nisi\r\n"
    first, again, other = parse(raw), parse(raw), parse(raw + b"lagi\r\n")
    assert not first.message_id_given and first.message_id == again.message_id != other.message_id
    assert first.message_id.endswith("@no-message-id.invalid>")
    assert any("no Message-ID" in p for p in first.problems)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"", "empty"),
        (b"   \r\n\r\n", "empty"),
        (os.urandom(4096).replace(b":", b"-"), "From"),
        (b"Subject: no sender\r\n\r\nisi\r\n", "no From header"),
        (b"From: not an address\r\nSubject: x\r\n\r\nisi\r\n", "no sender address"),
        (b"From: a@b.example\r\nX-Big: " + b"a" * 300_000 + b"\r\n\r\nisi\r\n", "over the limit"),
    ],
)
def test_what_cannot_be_read_as_an_email_is_refused_with_the_reason(raw: bytes, reason: str):
    """Empty, binary junk, no sender, headers over the limit: Unparseable, naming why, in bounded time."""
    started = time.perf_counter()
    with pytest.raises(Unparseable, match=reason):
        parse(raw)
    assert time.perf_counter() - started < 1.0


def test_a_twenty_thousand_link_html_mail_is_read_in_bounded_time():
    """A huge newsletter: parsed, made safe and turned to text in a few seconds at most."""
    html = "<html><body>" + "".join(
        f'<p><a href="https://promo.example/{i}">tawaran {i}</a></p>' for i in range(20_000)
    )
    msg = mail("")
    msg.set_content(html + "</body></html>", subtype="html")
    started = time.perf_counter()
    parsed = parse(msg.as_bytes())
    assert time.perf_counter() - started < 5.0
    assert "tawaran 19999" in parsed.text
    assert parsed.html is not None and parsed.html.count('rel="noopener noreferrer"') == 20_000


def test_base64_and_quoted_printable_bodies_are_decoded():
    """Transfer encodings are undone before the charset is applied."""
    body = base64.encodebytes(b"Selamat pagi, saya mau tanya ongkos kirim ke Medan.")
    parsed = parse(raw_mail(body, extra=b"Content-Transfer-Encoding: base64\r\n"))
    assert parsed.text == "Selamat pagi, saya mau tanya ongkos kirim ke Medan.\n"
    qp = parse(raw_mail(b"Harga =E2=82=AC 10 =\r\nsaja\r\n", extra=b"Content-Transfer-Encoding: quoted-printable\r\n"))
    assert qp.text == "Harga € 10 saja\n"


def test_parts_nested_without_end_or_without_number_cost_bounded_time():
    """Thousands of parts are read up to a limit (named); nesting two thousand deep is refused, not a crash."""
    head = b"From: a@b.example\r\nMessage-ID: <d@x>\r\n"
    many = head + b'Content-Type: multipart/mixed; boundary="z"\r\n\r\n'
    many += b"".join(b"--z\r\nContent-Type: text/plain\r\n\r\nx\r\n" for _ in range(5000)) + b"--z--\r\n"
    started = time.perf_counter()
    parsed = parse(many)
    assert parsed.text.count("x") == 999 and "more than 1000 MIME parts" in parsed.problems[-1]
    deep = head + b'Content-Type: multipart/mixed; boundary="b0"\r\n\r\n'
    deep += b"".join(
        f'--b{i - 1}\r\nContent-Type: multipart/mixed; boundary="b{i}"\r\n\r\n'.encode() for i in range(1, 2000)
    )
    with pytest.raises(Unparseable, match="nested too deep"):
        parse(deep + b"--b1999\r\nContent-Type: text/plain\r\n\r\ndeep\r\n")
    assert time.perf_counter() - started < 5.0


def test_a_display_name_in_an_unknown_charset_is_read_not_shown_encoded():
    """=?x-unknown?B?...?= in From: the name is what its bytes say, never the encoded word."""
    raw = (
        b"From: =?x-unknown?B?" + base64.b64encode(b"Siti Nurhaliza") + b"?= <siti@contoh.co.id>\r\n"
        b"To: support@shop.example\r\nSubject: =?x-unknown?Q?Pesanan_=C3=A9?=\r\nMessage-ID: <u@x>\r\n\r\nisi\r\n"
    )
    parsed = parse(raw)
    assert parsed.from_name == "Siti Nurhaliza" and "=?" not in parsed.from_name
    assert parsed.subject == "Pesanan é" and any("From" in p for p in parsed.problems)


def test_inline_text_with_a_file_name_is_the_mails_text():
    """A text/plain part shown inline is the body even when the mail program gave it a file name."""
    raw = (
        b"From: a@b.example\r\nSubject: x\r\nMessage-ID: <i@x>\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\n'
        b'Content-Type: text/plain; charset=utf-8; name="message.txt"\r\n'
        b'Content-Disposition: inline; filename="message.txt"\r\n\r\nPaket saya rusak.\r\n'
        b'--b\r\nContent-Type: text/plain; name="log.txt"\r\nContent-Disposition: attachment; filename="log.txt"\r\n'
        b"\r\nnot the body\r\n--b--\r\n"
    )
    parsed = parse(raw)
    assert parsed.text.strip() == "Paket saya rusak."
    assert [a.filename for a in parsed.attachments] == ["log.txt"]


def test_binary_junk_with_a_valid_sender_is_refused_as_binary():
    """Control characters for text (a valid From, no MIME): Unparseable, naming the share; ordinary text passes."""
    head = b"From: Ana <ana@pelanggan.test>\r\nSubject: x\r\nMessage-ID: <j@x>\r\n\r\n"
    with pytest.raises(Unparseable, match=r"binary, not text: [\d,]+ of [\d,]+ characters"):
        parse(head + bytes(range(1, 32)) * 100)
    assert parse(head + b"Tabel:\tA\tB\r\nBaris dua\x0c\r\n").text.startswith("Tabel")
