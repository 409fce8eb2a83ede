# ngx_bubble R client: one file to source.
#
#   source("clients/r/bubble.R")
#   spec <- bubble_spec(df, x = "gdpPercap", y = "lifeExp", size = "pop",
#                       color = "continent", title = "Life expectancy")
#   spec <- bubble_from_ggplot(p)                 # a ggplot of geom_point
#   bubble_url(spec, "http://127.0.0.1:8080/chart")            # compact URL
#   bubble_url(spec, "https://charts.example/signed", secret = "s3cret")
#   png <- bubble_png(spec, "http://127.0.0.1:8080/chart", file = "a.png")
#   svg <- bubble_svg(spec, "http://127.0.0.1:8080/chart")
#
# Debian: r-base-core, r-cran-jsonlite (reading specs), r-cran-curl
# (fetching), r-cran-openssl (signing), r-cran-ggplot2 (bubble_from_ggplot).
#
# A spec is a named R list with the shape of the JSON (docs/spec.md).
# bubble_json() writes it as the same compact JSON text that
# tools/bubble-url (Python's json.dumps(separators=(",", ":"),
# ensure_ascii=False)) writes for it, so that bubble_url() mints the very
# URL the Python and JavaScript builders mint: the compact form is
# base64url(raw deflate level 9 (JSON)), the signature base64url(HMAC-
# SHA256(secret, "<format>:" JSON)) cut to 22 characters
# (ngx_http_bubble_url.c).

`%||%` <- function(a, b) if (is.null(a)) b else a

bubble_sig_len <- 22L

# Members whose value is always a JSON array, even of one element.
bubble_array_members <- c("limits", "breaks", "range")


# --------------------------------------------------------------------------
# JSON text, as Python's json.dumps(separators=(",", ":"),
# ensure_ascii=False) writes it after json.loads: the URL's bytes depend on
# it, so numbers and strings follow Python's rules exactly.

# Doubles as Python's repr() of a float: the fewest significant digits
# that read back to the same double, fixed notation for decimal exponents
# -4 .. 15 (always with a fraction: "21.0"), else "1.5e-05" / "1e+16".
# R integers are Python ints ("21").  So R's double/integer distinction is
# Python's float/int one, and json.loads + json.dumps gives back the text.
# Candidates are read back with jsonlite (the C library's strtod, correctly
# rounded); R's own as.numeric() is not, for 16 and 17 digits.
bubble_json_numbers <- function(x) {
    if (is.integer(x)) {
        return(ifelse(is.na(x), "null", as.character(x)))
    }
    x <- as.numeric(x)
    out <- rep("null", length(x))            # JSON has no NaN or Infinity
    ok <- is.finite(x)
    zero <- ok & x == 0
    out[zero] <- ifelse(1 / x[zero] < 0, "-0.0", "0.0")
    todo <- which(ok & x != 0)
    sci <- character(length(x))
    for (d in 1:17) {
        if (!length(todo)) break
        s <- sprintf("%.*e", d - 1L, x[todo])
        back <- if (d == 17L) x[todo]
                else jsonlite::parse_json(paste0("[", paste(s, collapse = ","), "]"),
                                          simplifyVector = TRUE)
        hit <- back == x[todo]
        sci[todo[hit]] <- s[hit]
        todo <- todo[!hit]
    }
    idx <- which(ok & x != 0)
    if (length(idx)) {
        s <- sci[idx]
        neg <- startsWith(s, "-")
        e <- as.integer(sub("^.*e", "", s))
        digits <- sub("0+$", "", gsub("[^0-9]", "", sub("e.*$", "", s)))
        n <- nchar(digits)
        fixed <- e >= -4 & e < 16
        r <- character(length(idx))
        i <- fixed & e < 0
        r[i] <- paste0("0.", strrep("0", -e[i] - 1L), digits[i])
        i <- fixed & e >= 0 & n <= e + 1L
        r[i] <- paste0(digits[i], strrep("0", e[i] + 1L - n[i]), ".0")
        i <- fixed & e >= 0 & n > e + 1L
        r[i] <- paste0(substr(digits[i], 1L, e[i] + 1L), ".",
                       substr(digits[i], e[i] + 2L, n[i]))
        i <- !fixed
        r[i] <- paste0(substr(digits[i], 1L, 1L),
                       ifelse(n[i] > 1L, paste0(".", substr(digits[i], 2L, n[i])), ""),
                       "e", ifelse(e[i] < 0, "-", "+"), sprintf("%02d", abs(e[i])))
        out[idx] <- paste0(ifelse(neg, "-", ""), r)
    }
    out
}

bubble_json_string <- function(s) {
    if (is.na(s)) {
        return("null")
    }
    s <- enc2utf8(as.character(s))
    if (grepl("[\001-\037\"\\\\]", s, useBytes = TRUE)) {
        cp <- utf8ToInt(s)
        out <- vapply(cp, function(c) {
            switch(as.character(c),
                   "34" = "\\\"", "92" = "\\\\", "8" = "\\b", "12" = "\\f",
                   "10" = "\\n", "13" = "\\r", "9" = "\\t",
                   if (c < 32) sprintf("\\u%04x", c) else intToUtf8(c))
        }, "")
        s <- paste(out, collapse = "")
    }
    paste0("\"", s, "\"")
}

bubble_json_scalar <- function(v) {
    if (is.factor(v)) v <- as.character(v)
    if (is.logical(v)) {
        return(ifelse(is.na(v), "null", ifelse(v, "true", "false")))
    }
    if (is.numeric(v)) {
        return(bubble_json_numbers(v))
    }
    if (is.character(v)) {
        return(vapply(v, bubble_json_string, "", USE.NAMES = FALSE))
    }
    stop("bubble_json: cannot write a value of class ", class(v)[1])
}

# as_array: write an atomic vector of length 1 as [v] (data columns,
# limits, breaks, range, and anything wrapped in I()).
bubble_json_value <- function(v, as_array = FALSE) {
    if (is.null(v)) {
        return("null")
    }
    if (is.data.frame(v)) {
        v <- as.list(v)
        return(paste0("{", paste0(vapply(names(v), bubble_json_string, ""), ":",
                                  vapply(v, bubble_json_value, "", as_array = TRUE),
                                  collapse = ","), "}"))
    }
    if (is.list(v)) {
        nm <- names(v)
        if (is.null(nm)) {
            if (length(v) == 0 && !inherits(v, "AsIs")) {
                return("[]")
            }
            return(paste0("[", paste(bubble_json_elements(v), collapse = ","), "]"))
        }
        if (length(v) == 0) {
            return("{}")
        }
        if (any(nm == "") || anyDuplicated(nm)) {
            stop("bubble_json: an object needs unique member names")
        }
        parts <- vapply(seq_along(v), function(i) {
            k <- nm[i]
            arr <- k %in% bubble_array_members
            val <- if (k == "data" && is.list(v[[i]]) && !is.null(names(v[[i]]))) {
                bubble_json_columns(v[[i]])
            } else {
                bubble_json_value(v[[i]], as_array = arr)
            }
            paste0(bubble_json_string(k), ":", val)
        }, "")
        return(paste0("{", paste(parts, collapse = ","), "}"))
    }
    if (!is.atomic(v)) {
        stop("bubble_json: cannot write a value of class ", class(v)[1])
    }
    if (length(v) == 1 && !as_array && !inherits(v, "AsIs")) {
        return(bubble_json_scalar(v))
    }
    paste0("[", paste(bubble_json_scalar(v), collapse = ","), "]")
}

# The elements of an unnamed list; scalars of one type are written in one
# go (a column read by bubble_read_spec() is such a list).
bubble_json_elements <- function(v) {
    scalar <- vapply(v, function(e) is.null(e) ||
                         (is.atomic(e) && length(e) == 1 && !inherits(e, "AsIs")), TRUE)
    if (!all(scalar)) {
        return(vapply(v, bubble_json_value, ""))
    }
    out <- rep("null", length(v))
    for (type in c("double", "integer", "character", "logical")) {
        i <- which(vapply(v, function(e) identical(typeof(e), type), TRUE))
        if (length(i)) out[i] <- bubble_json_scalar(unlist(v[i], use.names = FALSE))
    }
    out
}

# "data" in the columns form: every column an array, even of one row.
bubble_json_columns <- function(cols) {
    cols <- as.list(cols)
    paste0("{", paste0(vapply(names(cols), bubble_json_string, ""), ":",
                       vapply(cols, bubble_json_value, "", as_array = TRUE),
                       collapse = ","), "}")
}

# Members the server wants written without a fraction ("800", not "800.0").
bubble_whole <- function(v) {
    if (is.numeric(v) && length(v) == 1 && !is.na(v) && v == trunc(v) &&
        abs(v) < .Machine$integer.max) as.integer(v) else v
}

# The spec's JSON text (UTF-8), compact, as tools/bubble-url writes it;
# pretty = TRUE puts each top-level member and each data column on a line
# of its own (the same JSON value, for reading).
bubble_json <- function(spec, pretty = FALSE) {
    if (is.list(spec) && !is.null(names(spec))) {
        for (k in c("width", "height")) {
            if (!is.null(spec[[k]])) spec[[k]] <- bubble_whole(spec[[k]])
        }
        if (is.list(spec$facet) && !is.null(spec$facet$ncol)) {
            spec$facet$ncol <- bubble_whole(spec$facet$ncol)
        }
    }
    if (pretty && is.list(spec) && !is.null(names(spec)) && length(spec)) {
        member <- function(k, v, indent) {
            paste0(indent, bubble_json_string(k), ": ", v)
        }
        parts <- vapply(names(spec), function(k) {
            v <- spec[[k]]
            if (k == "data" && is.list(v) && !is.null(names(v)) && length(v)) {
                cols <- vapply(names(v), function(c) member(c, bubble_json_value(v[[c]], TRUE),
                                                            "    "), "")
                return(member(k, paste0("{\n", paste(cols, collapse = ",\n"), "\n  }"), "  "))
            }
            member(k, bubble_json_value(v), "  ")
        }, "")
        return(enc2utf8(paste0("{\n", paste(parts, collapse = ",\n"), "\n}\n")))
    }
    enc2utf8(bubble_json_value(spec))
}

# Read a spec from a JSON file or string into the list bubble_json() writes
# back to the same text (numbers, nulls and one-element arrays kept).
bubble_read_spec <- function(json) {
    if (!requireNamespace("jsonlite", quietly = TRUE)) {
        stop("bubble_read_spec needs jsonlite (apt-get install r-cran-jsonlite)")
    }
    if (length(json) == 1 && !grepl("^\\s*[{\\[]", json) && file.exists(json)) {
        json <- paste(readLines(json, encoding = "UTF-8", warn = FALSE),
                      collapse = "\n")
    }
    keep_arrays <- function(v) {
        if (is.list(v)) {
            if (is.null(names(v))) {
                return(I(lapply(v, keep_arrays)))
            }
            return(lapply(v, keep_arrays))
        }
        v
    }
    keep_arrays(jsonlite::fromJSON(json, simplifyVector = FALSE))
}


# --------------------------------------------------------------------------
# URLs

bubble_base64url <- function(bytes) {
    s <- jsonlite::base64_enc(bytes)
    s <- gsub("[\r\n=]", "", s)
    chartr("+/", "-_", s)
}

# Raw deflate (RFC 1951): zlib at level 9, 32 KiB window, memLevel 9, the
# stream tools/bubble-url writes (zlib.compressobj(9, DEFLATED, -15, 9)).
# Base R reaches zlib's deflate only through gzfile(), which uses exactly
# those parameters (R's gzio.h); the gzip member's header and its
# CRC-32/size trailer are cut off.
bubble_deflate_raw <- function(bytes) {
    tmp <- tempfile(fileext = ".gz")
    on.exit(unlink(tmp))
    con <- gzfile(tmp, "wb", compression = 9)
    writeBin(bytes, con)
    close(con)
    gz <- readBin(tmp, "raw", file.info(tmp)$size)
    if (length(gz) < 18 || gz[1] != as.raw(0x1f) || gz[2] != as.raw(0x8b)) {
        stop("bubble_deflate_raw: gzfile() did not write gzip")
    }
    flg <- as.integer(gz[4])
    pos <- 11L
    if (bitwAnd(flg, 4L)) {                                # FEXTRA
        pos <- pos + 2L + as.integer(gz[pos]) + 256L * as.integer(gz[pos + 1L])
    }
    for (bit in c(8L, 16L)) {                              # FNAME, FCOMMENT
        if (bitwAnd(flg, bit)) {
            while (gz[pos] != as.raw(0)) pos <- pos + 1L
            pos <- pos + 1L
        }
    }
    if (bitwAnd(flg, 2L)) pos <- pos + 2L                  # FHCRC
    gz[pos:(length(gz) - 8L)]
}

# Percent-encoding of every byte but A-Z a-z 0-9 _ . - ~, as Python's
# urllib.parse.quote(s, safe="").
bubble_quote <- function(bytes) {
    b <- as.integer(bytes)
    keep <- (b >= 65L & b <= 90L) | (b >= 97L & b <= 122L) |
            (b >= 48L & b <= 57L) | b %in% c(95L, 46L, 45L, 126L)
    out <- sprintf("%%%02X", b)
    out[keep] <- rawToChar(bytes[keep], multiple = TRUE)
    paste(out, collapse = "")
}

bubble_sign <- function(secret, format, json) {
    if (!requireNamespace("openssl", quietly = TRUE)) {
        stop("signed URLs need openssl (apt-get install r-cran-openssl)")
    }
    msg <- c(charToRaw(format), charToRaw(":"), charToRaw(json))
    mac <- openssl::sha256(msg, key = charToRaw(enc2utf8(secret)))
    substr(bubble_base64url(as.raw(mac)), 1L, bubble_sig_len)
}

# The chart URL of a spec.  base: the location serving charts, e.g.
# "http://127.0.0.1:8080/chart".  Compact (default):
# BASE/<base64url(deflate(JSON))>.FORMAT; readable: BASE.FORMAT?spec=<JSON>.
# With a secret (the location's bubble_url_secret), appends sig=.
bubble_url <- function(spec, base = "/chart", secret = NULL,
                       format = c("png", "svg", "pdf"), readable = FALSE) {
    format <- match.arg(format)
    json <- if (is.character(spec) && length(spec) == 1) enc2utf8(spec)
            else bubble_json(spec)
    body <- charToRaw(json)
    if (readable) {
        url <- paste0(base, ".", format, "?spec=", bubble_quote(body))
        sep <- "&"
    } else {
        url <- paste0(sub("/+$", "", base), "/",
                      bubble_base64url(bubble_deflate_raw(body)), ".", format)
        sep <- "?"
    }
    if (!is.null(secret) && nzchar(secret)) {
        url <- paste0(url, sep, "sig=", bubble_sign(secret, format, json))
    }
    url
}


# --------------------------------------------------------------------------
# Fetching images

bubble_error <- function(status, body) {
    txt <- rawToChar(body)
    Encoding(txt) <- "UTF-8"
    err <- tryCatch(jsonlite::fromJSON(txt), error = function(e) NULL)
    msg <- if (is.list(err) && !is.null(err$message)) err$message else substr(txt, 1, 300)
    structure(class = c("bubble_error", "error", "condition"),
              list(message = sprintf("ngx_bubble answered %d: %s", status, msg),
                   call = NULL, status = status, error = err$error,
                   path = err$path))
}

# GET the chart URL (the path every cache and browser uses); POST the JSON
# instead when the URL would be longer than max_url bytes, or with
# method = "post".  Returns the body as raw bytes, with the response's
# status and headers as attributes; a non-200 answer is a "bubble_error"
# condition carrying the server's message and the field it names.
bubble_fetch <- function(spec, base, format, secret = NULL, method = c("get", "post"),
                         max_url = 8000L, file = NULL) {
    if (!requireNamespace("curl", quietly = TRUE)) {
        stop("fetching needs curl (apt-get install r-cran-curl)")
    }
    method <- match.arg(method)
    json <- if (is.character(spec) && length(spec) == 1) enc2utf8(spec)
            else bubble_json(spec)
    h <- curl::new_handle()
    url <- if (method == "get") bubble_url(json, base, secret, format) else NULL
    if (is.null(url) || nchar(url, type = "bytes") > max_url) {
        url <- paste0(sub("/+$", "", base), ".", format)
        curl::handle_setopt(h, post = TRUE, postfields = charToRaw(json))
        curl::handle_setheaders(h, "Content-Type" = "application/json")
    }
    res <- curl::curl_fetch_memory(url, handle = h)
    if (res$status_code != 200) {
        stop(bubble_error(res$status_code, res$content))
    }
    if (!is.null(file)) {
        writeBin(res$content, file)
    }
    structure(res$content, status = res$status_code, url = url,
              headers = curl::parse_headers_list(res$headers))
}

bubble_png <- function(spec, base = "http://127.0.0.1:8080/chart", file = NULL, ...) {
    invisible(bubble_fetch(spec, base, "png", file = file, ...))
}

bubble_pdf <- function(spec, base = "http://127.0.0.1:8080/chart", file = NULL, ...) {
    invisible(bubble_fetch(spec, base, "pdf", file = file, ...))
}

bubble_svg <- function(spec, base = "http://127.0.0.1:8080/chart", file = NULL, ...) {
    body <- bubble_fetch(spec, base, "svg", file = file, ...)
    txt <- rawToChar(body)
    Encoding(txt) <- "UTF-8"
    if (is.null(file)) txt else invisible(txt)
}

# Width and height in pixels from a PNG's IHDR.
bubble_png_size <- function(png) {
    sig <- as.raw(c(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a))
    if (length(png) < 24 || !identical(as.raw(png[1:8]), sig)) {
        stop("not a PNG")
    }
    be32 <- function(b) sum(as.numeric(as.integer(b)) * 256^(3:0))
    c(width = be32(png[17:20]), height = be32(png[21:24]))
}


# --------------------------------------------------------------------------
# A spec from a data.frame

# A data.frame column as a spec column: numbers stay numbers, factors and
# logicals become strings, anything else is refused here rather than by
# the server.
bubble_column <- function(v, name) {
    if (is.factor(v) || is.logical(v)) {
        return(as.character(v))
    }
    if (is.numeric(v)) {
        return(as.numeric(v))
    }
    if (is.character(v)) {
        return(v)
    }
    stop(sprintf("column %s: a %s column; the spec takes numbers or strings",
                 name, class(v)[1]))
}

# Column names from bubble_spec()'s arguments: "col", col, or NULL; a
# name that is no column but a variable holding a string gives that string.
bubble_arg_name <- function(e, cols = character(), env = parent.frame(2)) {
    if (is.null(e)) return(NULL)
    if (is.character(e)) return(e)
    if (is.symbol(e)) {
        n <- as.character(e)
        if (!(n %in% cols) && exists(n, envir = env)) {
            v <- get(n, envir = env)
            if (is.character(v) && length(v) == 1) return(v)
        }
        return(n)
    }
    stop("give a column as a name or a string, got ", deparse(e))
}

# bubble_spec(df, x, y, size, color, label, ...): the spec of a bubble chart
# of df.  Columns are names or strings; `...` are top-level spec members
# (title, subtitle, caption, theme, width, height, legend, facet, font,
# alpha, stroke, background, scale, format); `scales` sets the scale
# objects: list(x = list(scale = "log10"), size = list(range = c(1, 24))).
# Only the mapped columns are sent.  A factor colour keeps its level order
# (color.limits); a factor facet is sent as is.
bubble_spec <- function(df, x, y, size = NULL, color = NULL, label = NULL,
                        tooltip = NULL, ..., scales = list(), facet = NULL) {
    if (!is.data.frame(df)) {
        stop("bubble_spec: df must be a data.frame")
    }
    env <- parent.frame()
    arg <- function(e) bubble_arg_name(e, names(df), env)
    cols <- list(x = arg(substitute(x)), y = arg(substitute(y)),
                 size = arg(substitute(size)), color = arg(substitute(color)),
                 label = arg(substitute(label)), tooltip = arg(substitute(tooltip)))
    cols <- cols[!vapply(cols, is.null, TRUE)]
    facet_col <- arg(substitute(facet))
    used <- unique(c(unlist(cols), facet_col))
    missing <- setdiff(used, names(df))
    if (length(missing)) {
        stop("bubble_spec: no column ", paste(missing, collapse = ", "), " in df")
    }
    data <- lapply(setNames(used, used), function(n) bubble_column(df[[n]], n))
    spec <- list(...)
    spec$data <- data
    spec$mapping <- cols
    if (!is.null(facet_col)) {
        spec$facet <- list(wrap = facet_col)
    }
    for (s in names(scales)) {
        spec[[s]] <- utils::modifyList(spec[[s]] %||% list(), scales[[s]])
    }
    if (!is.null(cols$color) && is.factor(df[[cols$color]]) &&
        is.null(spec$color$limits)) {
        spec$color$limits <- levels(droplevels(df[[cols$color]]))
    }
    spec
}


# --------------------------------------------------------------------------
# A spec from a ggplot

bubble_inner <- function(f) {
    e <- environment(f)
    if (!is.null(e) && exists("f", envir = e, inherits = FALSE)) get("f", e) else f
}

bubble_is_waiver <- function(x) inherits(x, "waiver")

# An R colour as the spec takes it: "#rrggbb" (or "#rrggbbaa" with alpha);
# R names such as "steelblue3" are not CSS names.
bubble_hex <- function(col) {
    if (is.na(col) || identical(col, "transparent")) return("transparent")
    if (grepl("^#[0-9A-Fa-f]{6}([0-9A-Fa-f]{2})?$", col)) return(col)
    v <- grDevices::col2rgb(col, alpha = TRUE)
    if (v[4] == 255) sprintf("#%02X%02X%02X", v[1], v[2], v[3])
    else sprintf("#%02X%02X%02X%02X", v[1], v[2], v[3], v[4])
}

# The theme a plot uses: the supported complete theme whose look matches.
bubble_theme_of <- function(th) {
    sig <- function(t) {
        el <- function(e) if (is.null(e)) "NULL" else class(e)[1]
        c(el(t$panel.background), t$panel.background$fill %||% "",
          el(t$axis.line), el(t$panel.grid.major), el(t$panel.border),
          t$panel.grid$colour %||% "")
    }
    if (length(th) == 0) {
        return("gray")
    }
    cands <- list(gray = ggplot2::theme_gray(), minimal = ggplot2::theme_minimal(),
                  classic = ggplot2::theme_classic(), dark = ggplot2::theme_dark())
    score <- vapply(cands, function(c) sum(sig(c) == sig(th)), 0)
    best <- names(which.max(score))
    if (max(score) < length(sig(th))) {
        warning("bubble_from_ggplot: the theme is not one of theme_gray, ",
                "theme_minimal, theme_classic, theme_dark: drawn as theme_", best,
                call. = FALSE)
    }
    best
}

# Hex colours in upper case, "#RRGGBBFF" as "#RRGGBB".
bubble_opaque <- function(cols) {
    sub("^(#[0-9A-F]{6})FF$", "\\1", toupper(cols))
}

# The colours of a discrete scale's palette for its categories, as a
# palette name when it is one the server knows.
bubble_discrete_palette <- function(sc, n) {
    cols <- sc$palette(n)
    if (!is.null(names(cols)) && !is.null(sc$get_limits())) {
        lim <- sc$get_limits()
        if (all(lim %in% names(cols))) cols <- cols[lim]
    }
    cols <- bubble_opaque(unname(cols))
    same <- function(ref) length(ref) == n && identical(cols, bubble_opaque(ref))
    if (same(scales::hue_pal()(n))) return("hue")
    if (n <= 8) {
        for (b in c("Set2", "Dark2")) {
            if (same(suppressWarnings(scales::brewer_pal(palette = b)(n)))) return(tolower(b))
        }
    }
    for (o in c("viridis", "magma", "plasma", "inferno", "cividis")) {
        if (same(scales::viridis_pal(option = o)(n))) return(o)
    }
    I(cols)
}

bubble_continuous_palette <- function(sc) {
    f <- bubble_inner(sc$palette)
    e <- environment(f)
    if (!is.null(e) && exists("colours", envir = e, inherits = FALSE) &&
        is.null(e$values)) {
        cols <- bubble_opaque(vapply(e$colours, bubble_hex, "", USE.NAMES = FALSE))
        for (o in c("viridis", "magma", "plasma", "inferno", "cividis")) {
            if (identical(cols, bubble_opaque(scales::viridis_pal(option = o)(6)))) return(o)
        }
        return(I(cols))
    }
    # any other palette: 16 samples of it, blended in between
    I(bubble_opaque(sc$palette(seq(0, 1, length.out = 16))))
}

# sc: the panel's position scale; view: its view scale in panel_params
# (the breaks and labels ggplot2 draws, on the expanded range).
bubble_axis <- function(sc, view, title) {
    a <- list(title = title)
    if (is.null(sc)) {
        return(a)
    }
    tname <- sc$trans$name
    rev <- FALSE
    if (identical(tname, "reverse")) {
        rev <- TRUE
    } else if (identical(tname, "log-10")) {
        a$scale <- "log10"
    } else if (identical(tname, "sqrt")) {
        a$scale <- "sqrt"
    } else if (!identical(tname, "identity")) {
        stop("bubble_from_ggplot: the ", sc$aesthetics[1], " scale's ",
             tname, " transformation is not supported (identity, log10, sqrt, reverse)")
    }
    if (!is.null(sc$limits) && !is.function(sc$limits)) {
        lim <- sort(sc$trans$inverse(sc$limits))
        if (any(!is.na(lim))) a$limits <- lim
    }
    if (is.numeric(sc$breaks)) {
        a$breaks <- sc$breaks
    }
    if (is.character(sc$labels)) {
        if (is.null(a$breaks)) stop("bubble_from_ggplot: labels without breaks")
        a$labels <- I(sc$labels)
    } else if (is.function(sc$labels)) {
        # a labelling function: the breaks ggplot2 draws and their labels
        br <- view$get_breaks()
        lab <- view$get_labels()
        keep <- !is.na(br) & !is.na(lab)
        a$breaks <- sc$trans$inverse(br[keep])
        a$labels <- I(as.character(lab[keep]))
    }
    if (rev) a$reverse <- TRUE
    a
}

# bubble_from_ggplot(p): the spec of a ggplot made of geom_point (plus
# geom_text for labels) with x/y/size/colour aesthetics, log10/sqrt/reverse
# position scales, labs(), facet_wrap() of one variable and theme_gray,
# theme_minimal, theme_classic or theme_dark.  Size scales: scale_size_area
# becomes an "area" scale, scale_radius a "radius" scale, the default
# scale_size (whose smallest bubble is not 0) an "area" scale of the same
# largest radius; a ggplot2 size of s mm is s * .pt / 2 px of radius.
bubble_from_ggplot <- function(p, width = 800L, height = 600L, scale = NULL,
                               tooltip = NULL) {
    if (!inherits(p, "ggplot")) {
        stop("bubble_from_ggplot: p is not a ggplot")
    }
    points <- Filter(function(l) inherits(l$geom, "GeomPoint"), p$layers)
    texts <- Filter(function(l) inherits(l$geom, "GeomText"), p$layers)
    if (length(points) != 1) {
        stop("bubble_from_ggplot: needs exactly one geom_point layer, found ",
             length(points))
    }
    pl <- points[[1]]
    b <- ggplot2::ggplot_build(p)
    data <- if (is.data.frame(pl$data)) pl$data else p$data
    if (!is.data.frame(data)) {
        stop("bubble_from_ggplot: the plot has no data.frame")
    }
    mapping <- unclass(pl$mapping) %||% list()
    if (isTRUE(pl$inherit.aes)) {
        for (a in setdiff(names(p$mapping), names(mapping))) mapping[[a]] <- p$mapping[[a]]
    }
    if (length(texts)) {
        tm <- texts[[1]]$mapping
        if (!is.null(tm$label)) mapping$label <- tm$label
        else if (!is.null(p$mapping$label)) mapping$label <- p$mapping$label
    } else {
        mapping$label <- NULL
    }
    if (!is.null(mapping$fill) && is.null(mapping$colour)) {
        mapping$colour <- mapping$fill
    }
    known <- c("x", "y", "size", "colour", "label")
    ignored <- setdiff(names(mapping), c(known, "fill", "group"))
    if (length(ignored)) {
        warning("bubble_from_ggplot: aesthetics not drawn: ",
                paste(ignored, collapse = ", "), call. = FALSE)
    }
    mapping <- mapping[intersect(known, names(mapping))]

    cols <- list()
    spec_map <- list()
    for (a in names(mapping)) {
        q <- mapping[[a]]
        name <- rlang::as_label(q)
        v <- rlang::eval_tidy(q, data)
        if (length(v) == 1) v <- rep(v, nrow(data))
        cols[[name]] <- v
        spec_map[[if (a == "colour") "color" else a]] <- name
    }
    for (a in c("x", "y")) {
        if (is.null(spec_map[[a]])) stop("bubble_from_ggplot: ", a, " is not mapped")
    }
    spec <- list(width = as.integer(width), height = as.integer(height))
    if (!is.null(scale)) spec$scale <- scale

    labs <- b$plot$labels
    for (k in c("title", "subtitle", "caption")) {
        if (!is.null(labs[[k]])) spec[[k]] <- as.character(labs[[k]])
    }
    th <- p$theme
    spec$theme <- bubble_theme_of(th)
    base_size <- th$text$size %||% 11
    family <- th$text$family %||% ""
    font <- list()
    if (nzchar(family)) font$family <- family
    if (base_size != 11) font$size <- base_size
    if (length(font)) spec$font <- font

    # facet_wrap(~ v): the facet's values become a column
    facet <- NULL
    if (inherits(p$facet, "FacetWrap")) {
        fq <- p$facet$params$facets
        if (length(fq) != 1) stop("bubble_from_ggplot: facet_wrap of one variable only")
        fname <- names(fq)[1]
        fv <- rlang::eval_tidy(fq[[1]], data)
        if (is.factor(fv) && !identical(levels(fv), sort(levels(fv)))) {
            warning("bubble_from_ggplot: facet panels are drawn in sorted order, ",
                    "not in the factor's level order", call. = FALSE)
        }
        cols[[fname]] <- fv
        facet <- list(wrap = fname)
        if (!is.null(p$facet$params$ncol)) facet$ncol <- as.integer(p$facet$params$ncol)
    } else if (!inherits(p$facet, "FacetNull")) {
        stop("bubble_from_ggplot: only facet_wrap() is supported")
    }

    # columns: numbers or strings; a discrete colour keeps ggplot2's order
    data_out <- list()
    for (n in names(cols)) {
        v <- cols[[n]]
        data_out[[n]] <- bubble_column(v, n)
    }
    spec$data <- data_out
    spec$mapping <- spec_map
    if (!is.null(facet)) spec$facet <- facet

    sc_of <- function(a) b$plot$scales$get_scales(a)
    title_of <- function(a, sc) {
        nm <- if (!is.null(sc) && !bubble_is_waiver(sc$name)) sc$name else labs[[a]]
        if (is.null(nm)) "" else as.character(nm)
    }
    pp <- b$layout$panel_params[[1]]
    xs <- b$layout$panel_scales_x[[1]]
    ys <- b$layout$panel_scales_y[[1]]
    spec$x <- bubble_axis(xs, pp$x, title_of("x", xs))
    spec$y <- bubble_axis(ys, pp$y, title_of("y", ys))

    # geom_point's fixed look
    ap <- pl$aes_params
    spec$alpha <- if (!is.null(ap$alpha) && !is.na(ap$alpha)) ap$alpha else 1
    if (!is.null(spec_map$size)) {
        ss <- sc_of("size")
        s <- list(title = title_of("size", ss))
        f <- bubble_inner(ss$palette)
        e <- environment(f)
        px <- ggplot2::.pt / 2                       # size mm -> radius px
        if (identical(ss$scale_name, "radius")) {
            s$type <- "radius"
            s$range <- e$range * px
        } else if (!is.null(e$max)) {
            s$range <- c(0, e$max * px)
        } else if (!is.null(e$range)) {
            s$range <- c(e$range[1], e$range[2]) * px
        }
        if (!is.null(ss$limits) && !is.function(ss$limits)) s$limits <- ss$limits
        if (is.numeric(ss$breaks)) s$breaks <- ss$breaks
        spec$size <- s
    } else {
        # unmapped: every bubble gets the range's max
        r <- (ap$size %||% ggplot2::GeomPoint$default_aes$size) * ggplot2::.pt / 2
        spec$size <- list(range = c(0, r))
    }
    if (!is.null(spec_map$color)) {
        cs <- sc_of("colour") %||% sc_of("fill")
        cv <- cols[[spec_map$color]]
        fill <- !is.null(pl$mapping$fill) || (isTRUE(pl$inherit.aes) && !is.null(p$mapping$fill))
        col <- list(title = title_of(if (fill) "fill" else "colour", cs))
        if (is.null(cs) || inherits(cs, "ScaleDiscrete")) {
            lim <- as.character(cs$get_limits())
            col$type <- "categorical"
            col$limits <- I(lim)
            col$palette <- bubble_discrete_palette(cs, length(lim))
        } else {
            col$type <- "continuous"
            col$palette <- bubble_continuous_palette(cs)
            if (!is.null(cs$limits) && !is.function(cs$limits)) col$limits <- cs$limits
        }
        spec$color <- col
    } else {
        spec$color <- list(value = bubble_hex(ap$colour %||% ap$fill %||% "black"))
    }
    if (!is.null(ap$shape) && ap$shape %in% 21:25) {
        spec$stroke <- list(color = bubble_hex(ap$colour %||% "black"),
                            width = (ap$stroke %||% 0.5) * ggplot2::.stroke / 2)
        if (is.null(spec_map$color)) spec$color <- list(value = bubble_hex(ap$fill %||% "black"))
    }
    pos <- th$legend.position
    if (is.character(pos) && pos != "right") spec$legend <- list(position = pos)
    if (!is.null(tooltip)) {
        spec$data[["tooltip"]] <- bubble_column(tooltip, "tooltip")
        spec$mapping$tooltip <- "tooltip"
    }
    spec
}
