# Chart URLs: the spec's JSON deflated into the path, or percent-encoded
# in ?spec=, and signed with HMAC-SHA256 (docs/urls.md).

bubble_sig_len <- 22L

bubble_base64url <- function(bytes) {
    s <- openssl::base64_encode(bytes, linebreaks = FALSE)
    chartr("+/", "-_", sub("=+$", "", s))
}

# Raw DEFLATE (RFC 1951), as the compact URL carries it: base R's
# memCompress() writes a zlib stream (RFC 1950), which is a 2-byte header,
# the raw DEFLATE stream and a 4-byte Adler-32; the header and the
# checksum are cut off.
bubble_deflate_raw <- function(bytes) {
    z <- memCompress(bytes, type = "gzip")
    n <- length(z)
    if (n < 7 || z[1] != as.raw(0x78) || bitwAnd(as.integer(z[2]), 0x20L) != 0) {
        stop("memCompress() did not write a zlib stream")   # nocov
    }
    z[3:(n - 4L)]
}

# HMAC-SHA256(secret, "<format>:" JSON), base64url, cut to 22 characters:
# what bubble_url_secret checks.
bubble_sign <- function(secret, format, json) {
    msg <- c(charToRaw(format), charToRaw(":"), charToRaw(enc2utf8(json)))
    mac <- openssl::sha256(msg, key = charToRaw(enc2utf8(secret)))
    substr(bubble_base64url(as.raw(mac)), 1L, bubble_sig_len)
}

#' The URL of a chart
#'
#' A chart is also a URL: put it in `<img src=...>`, an e-mail or a
#' dashboard, and browsers, CDNs and nginx caches keep it like a file.
#' The compact form (the default) is
#' `SERVER/<base64url(raw DEFLATE(JSON))>.FORMAT`; the readable one is
#' `SERVER.FORMAT?spec=<percent-encoded JSON>`. With a secret (the
#' location's `bubble_url_secret`) a signature is appended:
#' `sig=` base64url(HMAC-SHA256(secret, "FORMAT:" JSON)), cut to 22
#' characters.
#'
#' @section The same chart, not the same bytes:
#' The JSON is written by [jsonlite::toJSON()] (see [bubble_json()]), the
#' DEFLATE stream by base R's [memCompress()] (zlib's default level), the
#' HMAC by openssl. So an R URL is not byte for byte the URL that the
#' Python (`tools/bubble-url`) or JavaScript builders mint for the same
#' chart: Python writes `21.0` where R writes `21`, and each builder
#' compresses with its own zlib settings. Keeping the bytes identical would
#' take a hand-written JSON writer reproducing Python's float formatting
#' and a hand-written deflate setup, and it buys nothing the server does
#' not already give: it reads any JSON, the signature covers the bytes
#' the URL carries (so every builder's signed URL is accepted), and the
#' `ETag` is computed over the spec as parsed, so the same chart has the
#' same `ETag` from any builder. What differs is the cache key of a CDN or
#' `proxy_cache`: the same chart minted by R and by Python is cached twice.
#'
#' @param spec a spec (named list), a JSON string, or a ggplot (converted
#'   with [bubble_from_ggplot()]).
#' @param server URL of a location with `bubble;` (see [bubble_server()]);
#'   a path such as `"/chart"` gives a URL relative to the page.
#' @param secret the location's `bubble_url_secret`, or `NULL` not to sign.
#' @param format `"png"`, `"svg"` or `"pdf"`.
#' @param readable the `?spec=` form instead of the compact one.
#' @return a string.
#' @examples
#' spec <- bubble_spec(mtcars, x = wt, y = mpg, size = hp)
#' bubble_url(spec, "http://127.0.0.1:8080/chart")
#' bubble_url(spec, "/chart", format = "svg", readable = TRUE)
#' bubble_url(spec, "https://charts.example.com/chart", secret = "a secret of 16+ bytes")
#' @export
bubble_url <- function(spec, server = bubble_server(), secret = bubble_secret(),
                       format = c("png", "svg", "pdf"), readable = FALSE) {
    format <- match.arg(format)
    json <- bubble_spec_json(spec)
    if (readable) {
        url <- paste0(sub("/+$", "", server), ".", format, "?spec=",
                      curl::curl_escape(json))
        sep <- "&"
    } else {
        url <- paste0(sub("/+$", "", server), "/",
                      bubble_base64url(bubble_deflate_raw(charToRaw(json))), ".", format)
        sep <- "?"
    }
    if (!is.null(secret) && nzchar(secret)) {
        url <- paste0(url, sep, "sig=", bubble_sign(secret, format, json))
    }
    url
}

# The JSON text of what the drawing functions take: a spec, a JSON
# string, or a ggplot.
bubble_spec_json <- function(spec, ...) {
    if (inherits(spec, "ggplot")) {
        spec <- bubble_from_ggplot(spec, ...)
    }
    enc2utf8(as.character(bubble_json(spec)))
}
