# Fetching images from the server.

bubble_error <- function(status, body, url) {
    txt <- rawToChar(body)
    Encoding(txt) <- "UTF-8"
    err <- tryCatch(jsonlite::fromJSON(txt), error = function(e) NULL)
    msg <- if (is.list(err) && !is.null(err$message)) err$message
           else substr(gsub("\\s+", " ", txt), 1, 300)
    structure(class = c("bubble_error", "error", "condition"),
              list(message = sprintf("ngx_bubble answered %d: %s", status, msg),
                   call = NULL, status = status,
                   error = if (is.list(err)) err$error,
                   path = if (is.list(err)) err$path,
                   url = url))
}

# GET the chart URL (what caches and browsers use), or POST the JSON when
# the URL would be longer than max_url bytes (or method = "post").  With a
# secret, the GET is signed, and so is the POST (?sig=, for locations with
# bubble_sign_post on).  A 503 (overloaded) is retried after its
# Retry-After, twice.  Returns a bubble_response.
bubble_fetch <- function(spec, server, format, secret = NULL,
                         method = c("auto", "get", "post"), max_url = bubble_max_url()) {
    method <- match.arg(method)
    json <- bubble_spec_json(spec)
    url <- if (method != "post") bubble_url(json, server, secret, format) else NULL
    post <- is.null(url) || (method == "auto" && nchar(url, type = "bytes") > max_url)
    if (post) {
        url <- paste0(sub("/+$", "", server), ".", format)
        if (!is.null(secret) && nzchar(secret)) {
            url <- paste0(url, "?sig=", bubble_sign(secret, format, json))
        }
    }
    for (attempt in 1:3) {
        h <- curl::new_handle(connecttimeout = 10)
        if (post) {
            curl::handle_setopt(h, post = TRUE, postfields = charToRaw(json))
            curl::handle_setheaders(h, "Content-Type" = "application/json")
        }
        res <- curl::curl_fetch_memory(url, handle = h)
        headers <- curl::parse_headers_list(res$headers)
        if (res$status_code != 503 || attempt == 3) break
        wait <- suppressWarnings(as.numeric(headers[["retry-after"]] %||% 1))
        Sys.sleep(min(if (is.na(wait)) 1 else wait, 5))
    }
    if (res$status_code != 200) {
        stop(bubble_error(res$status_code, res$content, url))
    }
    dropped <- headers[["x-bubble-dropped-rows"]]
    structure(list(body = res$content, url = url,
                   method = if (post) "POST" else "GET",
                   status = res$status_code,
                   content_type = headers[["content-type"]],
                   etag = headers[["etag"]],
                   dropped_rows = if (is.null(dropped)) NA_integer_ else as.integer(dropped),
                   headers = headers),
              class = "bubble_response")
}

#' Draw a chart with ngx_bubble
#'
#' `bubble_png()` and `bubble_pdf()` return the image as a raw vector
#' (what [writeBin()] writes and `png::readPNG()` reads),
#' `bubble_svg()` the SVG as a string. The chart is fetched with `GET` from
#' its URL ([bubble_url()], signed when there is a secret), or `POST`ed when
#' the URL would be longer than `getOption("ngxbubble.max_url", 8000)`
#' bytes.
#'
#' With `full = TRUE` the result is a `bubble_response` instead: a list of
#' `body` (the raw vector or string), `url`, `method` (`"GET"` or
#' `"POST"`), `status`, `content_type`, `etag`, `dropped_rows` (rows the
#' server left out because `x`, `y` or `size` was missing or not positive
#' on a log scale: ggplot2's "Removed N rows") and `headers`.
#'
#' A spec the server refuses is an error of class `bubble_error` whose
#' message is the server's, with the fields `status` (400, 403, 413, ...),
#' `error` (the server's code, such as `"invalid_spec"`), `path` (the
#' spec's field at fault, such as `"mapping.x"`) and `url`.
#'
#' @param spec a spec (named list, see [bubble_spec()]), a JSON string, or
#'   a ggplot (converted with [bubble_from_ggplot()] at 800 x 600 px).
#' @param server URL of a location with `bubble;` (see [bubble_server()]).
#' @param file if given, the image is also written to this file, and the
#'   result is returned invisibly.
#' @param secret the location's `bubble_url_secret`, or `NULL`.
#' @param method `"auto"` (GET, or POST when the URL is too long), `"get"`
#'   or `"post"`.
#' @param full return a `bubble_response` with the metadata.
#' @return a raw vector (`bubble_png()`, `bubble_pdf()`), a string
#'   (`bubble_svg()`), or a `bubble_response` with `full = TRUE`.
#' @seealso [bubble_ggsave()] to save a ggplot, [bubble_url()].
#' @examples
#' spec <- bubble_spec(mtcars, x = wt, y = mpg, size = hp, color = factor(cyl),
#'                     title = "Motor Trend cars")
#' if (bubble_available()) {
#'     png <- bubble_png(spec)
#'     f <- tempfile(fileext = ".png")
#'     writeBin(png, f)
#'     bubble_png_size(png)
#'
#'     svg <- bubble_svg(spec)
#'     substr(svg, 1, 60)
#'
#'     r <- bubble_pdf(spec, full = TRUE)
#'     r$etag
#'     r$dropped_rows
#' }
#' @export
bubble_png <- function(spec, server = bubble_server(), file = NULL,
                       secret = bubble_secret(), method = c("auto", "get", "post"),
                       full = FALSE) {
    bubble_image(spec, server, "png", file, secret, method, full)
}

#' @rdname bubble_png
#' @export
bubble_pdf <- function(spec, server = bubble_server(), file = NULL,
                       secret = bubble_secret(), method = c("auto", "get", "post"),
                       full = FALSE) {
    bubble_image(spec, server, "pdf", file, secret, method, full)
}

#' @rdname bubble_png
#' @export
bubble_svg <- function(spec, server = bubble_server(), file = NULL,
                       secret = bubble_secret(), method = c("auto", "get", "post"),
                       full = FALSE) {
    bubble_image(spec, server, "svg", file, secret, method, full)
}

bubble_image <- function(spec, server, format, file, secret, method, full) {
    r <- bubble_fetch(spec, server, format, secret = secret, method = method)
    if (!is.null(file)) {
        writeBin(r$body, file)
    }
    if (format == "svg") {
        txt <- rawToChar(r$body)
        Encoding(txt) <- "UTF-8"
        r$body <- txt
    }
    out <- if (full) r else r$body
    if (is.null(file)) out else invisible(out)
}

#' @export
print.bubble_response <- function(x, ...) {
    size <- if (is.raw(x$body)) length(x$body) else nchar(x$body, type = "bytes")
    cat(sprintf("<bubble_response> %s %d, %s, %d bytes\n", x$method, x$status,
                x$content_type %||% "?", size))
    url <- if (nchar(x$url) > 100) paste0(substr(x$url, 1, 97), "...") else x$url
    cat("  url:          ", url, "\n", sep = "")
    cat("  etag:         ", x$etag %||% "", "\n", sep = "")
    cat("  dropped rows: ", x$dropped_rows, "\n", sep = "")
    invisible(x)
}

#' Width and height of a PNG
#'
#' Reads them from the PNG's header (no decoding).
#'
#' @param png a PNG as a raw vector (such as [bubble_png()] returns), or
#'   the path of a PNG file.
#' @return a named numeric vector: `width`, `height` in pixels.
#' @examples
#' f <- tempfile(fileext = ".png")
#' grDevices::png(f, width = 320, height = 200)
#' plot.new()
#' invisible(grDevices::dev.off())
#' bubble_png_size(f)
#' @export
bubble_png_size <- function(png) {
    if (is.character(png)) {
        png <- readBin(png, "raw", 24L)
    }
    sig <- as.raw(c(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a))
    if (!is.raw(png) || length(png) < 24 || !identical(png[1:8], sig)) {
        stop("not a PNG", call. = FALSE)
    }
    be32 <- function(b) sum(as.numeric(as.integer(b)) * 256^(3:0))
    c(width = be32(png[17:20]), height = be32(png[21:24]))
}
