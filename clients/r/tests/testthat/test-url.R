# Chart URLs: compact (raw DEFLATE, base64url), readable, signed.

# The text a compact URL carries, if it is `expected`: base64url, then the
# raw DEFLATE stream inflated by base R's memDecompress(), which reads zlib
# streams: a zlib header and the Adler-32 of `expected` are put around it,
# so that it inflates only to `expected`.
inflate_url <- function(url, expected) {
    b64 <- sub("^.*/([A-Za-z0-9_-]+)\\.(png|svg|pdf)(\\?.*)?$", "\\1", url)
    b64 <- chartr("-_", "+/", b64)
    b64 <- paste0(b64, strrep("=", (4 - nchar(b64) %% 4) %% 4))
    raw <- openssl::base64_decode(b64)
    bytes <- as.numeric(charToRaw(enc2utf8(expected)))
    a <- (1 + sum(bytes)) %% 65521
    b <- (length(bytes) + sum(rev(seq_along(bytes)) * bytes)) %% 65521
    adler <- as.raw(c(b %/% 256, b %% 256, a %/% 256, a %% 256))
    out <- memDecompress(c(as.raw(c(0x78, 0x9c)), raw, adler), type = "gzip")
    txt <- rawToChar(out)
    Encoding(txt) <- "UTF-8"
    txt
}

spec <- list(data = list(x = c(1, 2.5), y = c(3, 4)), title = "caf\u00e9 \u4e2d")

test_that("the compact URL carries the JSON, deflated", {
    url <- bubble_url(spec, "http://127.0.0.1:8080/chart", secret = NULL)
    expect_match(url, "^http://127\\.0\\.0\\.1:8080/chart/[A-Za-z0-9_-]+\\.png$")
    json <- as.character(bubble_json(spec))
    expect_identical(inflate_url(url, json), json)
})

test_that("a trailing slash of the server and the format", {
    a <- bubble_url(spec, "http://h/chart/", secret = NULL, format = "svg")
    expect_match(a, "^http://h/chart/[A-Za-z0-9_-]+\\.svg$")
    expect_match(bubble_url(spec, "/chart", secret = NULL, format = "pdf"), "^/chart/.*\\.pdf$")
    expect_error(bubble_url(spec, "/chart", format = "jpg"))
})

test_that("the readable URL percent-encodes every byte but A-Z a-z 0-9 - . _ ~", {
    url <- bubble_url(spec, "http://h/chart", secret = NULL, readable = TRUE)
    q <- sub("^http://h/chart\\.png\\?spec=", "", url)
    expect_false(grepl("[^A-Za-z0-9%._~-]", q))
    back <- curl::curl_unescape(q)
    Encoding(back) <- "UTF-8"
    expect_identical(back, as.character(bubble_json(spec)))
})

test_that("signatures are HMAC-SHA256 of FORMAT:JSON, as tools/bubble-url signs", {
    json <- '{"data":{"x":[1],"y":[2]}}'
    key <- "a secret of at least 16 bytes"
    # tools/bubble-url --base http://h/chart --secret KEY on this JSON
    expect_identical(bubble_url(json, "http://h/chart", secret = key),
                     "http://h/chart/q1ZKSSxJVLKqVqpQsoo2jNVRqgTSRrG1tQA.png?sig=PvCekXpp-Ge-l0tHHi1Jrj")
    expect_identical(
        bubble_url(json, "http://h/chart", secret = key, format = "svg", readable = TRUE),
        paste0("http://h/chart.svg?spec=%7B%22data%22%3A%7B%22x%22%3A%5B1%5D%2C%22y%22",
               "%3A%5B2%5D%7D%7D&sig=-S-mHGf6Bn5eUMCr9SwAPU"))
    # UTF-8 secret and JSON (Python's hmac over the UTF-8 bytes)
    url <- bubble_url('{"title":"\u4e2d"}', "/c", secret = "s\u00e9cret-\u00fcn\u00efcode-16+",
                      format = "pdf")
    expect_true(endsWith(url, "?sig=VgEpnqVTGLe2tWO6g9Xu_w"))
})

test_that("the secret and the server come from options and the environment", {
    old <- options(ngxbubble.server = NULL, ngxbubble.secret = NULL)
    on.exit(options(old), add = TRUE)
    env <- Sys.getenv(c("NGXBUBBLE_SERVER", "NGXBUBBLE_SECRET"), unset = NA)
    on.exit(for (n in names(env)) {
        if (is.na(env[[n]])) Sys.unsetenv(n) else do.call(Sys.setenv, as.list(env[n]))
    }, add = TRUE)
    Sys.unsetenv(c("NGXBUBBLE_SERVER", "NGXBUBBLE_SECRET"))
    expect_equal(bubble_server(), "http://127.0.0.1:8080/chart")
    expect_null(bubble_secret())
    Sys.setenv(NGXBUBBLE_SERVER = "http://env:1/chart", NGXBUBBLE_SECRET = "from-the-environment")
    expect_equal(bubble_server(), "http://env:1/chart")
    expect_equal(bubble_secret(), "from-the-environment")
    options(ngxbubble.server = "http://opt:2/c", ngxbubble.secret = "from-an-option-16")
    expect_equal(bubble_server(), "http://opt:2/c")
    expect_match(bubble_url(spec), "^http://opt:2/c/.*\\.png\\?sig=[A-Za-z0-9_-]{22}$")
})

test_that("a ggplot is converted to make its URL", {
    p <- ggplot2::ggplot(mtcars, ggplot2::aes(wt, mpg)) + ggplot2::geom_point()
    json <- as.character(bubble_json(bubble_from_ggplot(p)))
    expect_identical(inflate_url(bubble_url(p, "/chart", secret = NULL), json), json)
    expect_equal(jsonlite::fromJSON(json)$mapping, list(x = "wt", y = "mpg"))
})
