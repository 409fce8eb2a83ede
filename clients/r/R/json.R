# Specs as JSON text, through jsonlite.

# Members whose value is always a JSON array, even of one element.
bubble_array_members <- c("limits", "breaks", "range")

#' A spec as JSON text, and back
#'
#' A spec is a named list with the shape of the JSON the server reads
#' (`docs/spec.md`): `data` (a data.frame or a list of columns),
#' `mapping`, and one list per scale. `bubble_json()` writes it with
#' [jsonlite::toJSON()]; `bubble_read_spec()` reads a JSON file or string
#' into such a list (what [bubble_json()] writes back as the same JSON
#' value).
#'
#' How R values become JSON:
#' * a data column, and `limits`, `breaks` and `range`, are arrays even
#'   of one element; anything else of length one is a scalar unless
#'   wrapped in [I()] (`palette = I("red")`, `labels = I("only")`);
#' * `NA`, `NaN` and infinities are `null` (a missing value: the server
#'   drops the row and counts it in `X-Bubble-Dropped-Rows`);
#' * factors are strings; `NULL` members are `null` (in `mapping` that
#'   unmaps an aesthetic);
#' * numbers are written with 15 significant digits, as R prints them,
#'   or with 17 where 15 would not read back as the same double: the
#'   server draws the very values R holds; `width`, `height` and
#'   `facet$ncol` are written as integers, which the server requires.
#'
#' A string (a spec that is already JSON) is returned as it is.
#'
#' @param spec a spec (named list) or a JSON string.
#' @param pretty indent the JSON, for reading.
#' @param json a JSON string, or the path of a JSON file.
#' @return `bubble_json()`: a string of class `"json"` (UTF-8).
#'   `bubble_read_spec()`: a spec (named list).
#' @seealso [bubble_spec()], [bubble_from_ggplot()]
#' @examples
#' spec <- bubble_spec(mtcars, x = wt, y = mpg, size = hp, title = "Cars")
#' bubble_json(spec)
#' bubble_json(list(data = list(x = 1, y = 2), x = list(breaks = 1)))
#'
#' back <- bubble_read_spec(bubble_json(spec))
#' identical(bubble_json(back), bubble_json(spec))
#' @export
bubble_json <- function(spec, pretty = FALSE) {
    if (is.character(spec) && length(spec) == 1) {
        return(structure(enc2utf8(spec), class = "json"))
    }
    if (!is.list(spec) || is.data.frame(spec) || is.null(names(spec))) {
        stop("bubble_json: a spec is a named list (or a JSON string)", call. = FALSE)
    }
    jsonlite::toJSON(bubble_prepare(spec), auto_unbox = TRUE, digits = NA,
                     na = "null", null = "null", json_verbatim = TRUE, pretty = pretty)
}

#' @rdname bubble_json
#' @export
bubble_read_spec <- function(json) {
    if (length(json) == 1 && !grepl("^\\s*[{\\[]", json) && file.exists(json)) {
        json <- paste(readLines(json, encoding = "UTF-8", warn = FALSE),
                      collapse = "\n")
    }
    keep_arrays <- function(v) {
        if (!is.list(v)) {
            return(v)
        }
        if (!is.null(names(v))) {
            return(lapply(v, keep_arrays))
        }
        out <- bubble_simplify_array(v)
        if (is.list(out)) I(lapply(out, keep_arrays)) else out
    }
    keep_arrays(jsonlite::fromJSON(json, simplifyVector = FALSE))
}

# A JSON array read as a list: a vector (I(), NA for null) when its
# elements are all numbers, all strings or all booleans (or null).
bubble_simplify_array <- function(v) {
    null <- vapply(v, is.null, TRUE)
    scalar <- vapply(v, function(e) is.null(e) || (is.atomic(e) && length(e) == 1), TRUE)
    types <- unique(vapply(v[!null], typeof, ""))
    if (length(v) && all(scalar) &&
        (length(types) <= 1 || setequal(types, c("integer", "double")))) {
        v[null] <- NA
        return(I(unlist(v)))
    }
    v
}

# Whole numbers as integers ("800", never "8e+02").
bubble_whole <- function(v) {
    if (is.numeric(v) && length(v) == 1 && !is.na(v) && v == trunc(v) &&
        abs(v) < .Machine$integer.max) as.integer(v) else v
}

# The spec with what must be an array marked I(), factors as strings, and
# data.frames as columns; then jsonlite writes it.
bubble_prepare <- function(spec) {
    for (k in c("width", "height")) {
        if (!is.null(spec[[k]])) spec[[k]] <- bubble_whole(spec[[k]])
    }
    if (is.list(spec$facet) && !is.null(spec$facet$ncol)) {
        spec$facet$ncol <- bubble_whole(spec$facet$ncol)
    }
    if (!is.null(spec$data)) {
        spec["data"] <- list(bubble_prepare_data(spec$data))
    }
    for (k in setdiff(names(spec), "data")) {
        if (!is.null(spec[[k]])) spec[[k]] <- bubble_prepare_value(spec[[k]])
    }
    spec
}

bubble_prepare_data <- function(data) {
    if (is.data.frame(data)) {
        data <- as.list(data)
    }
    if (is.list(data) && is.null(names(data)) && length(data) &&
        all(vapply(data, function(r) is.list(r) && !is.null(names(r)), TRUE))) {
        # rows: written as columns (a member a row leaves out is a null)
        cols <- unique(unlist(lapply(data, names)))
        data <- lapply(stats::setNames(cols, cols), function(n) {
            bubble_simplify_array(lapply(data, function(r) r[[n]]))
        })
    }
    if (!is.list(data) || is.null(names(data))) {
        return(data)
    }
    lapply(data, function(col) {
        if (is.factor(col)) col <- as.character(col)
        if (is.double(col)) return(bubble_json_numbers(col, array = TRUE))
        if (is.list(col)) return(I(lapply(col, bubble_prepare_value)))
        if (inherits(col, "AsIs")) col else I(col)
    })
}

# Doubles as JSON text: 15 significant digits, or 17 where 15 do not read
# back as the same double (read by jsonlite, as the server reads them);
# null for NA, NaN and infinities.  Written verbatim by toJSON().
bubble_json_numbers <- function(x, array) {
    out <- rep("null", length(x))
    ok <- is.finite(x)
    if (any(ok)) {
        v <- as.vector(x[ok])
        s <- sprintf("%.15g", v)
        back <- jsonlite::parse_json(paste0("[", paste(s, collapse = ","), "]"),
                                     simplifyVector = TRUE)
        far <- back != v
        s[far] <- sprintf("%.17g", v[far])
        out[ok] <- s
    }
    if (array) out <- paste0("[", paste(out, collapse = ","), "]")
    structure(out, class = "json")
}

bubble_prepare_value <- function(v, name = "") {
    if (is.factor(v)) {
        v <- as.character(v)
    }
    if (is.list(v) && !is.data.frame(v)) {
        nm <- names(v)
        if (is.null(nm)) {
            out <- lapply(v, bubble_prepare_value)
            return(if (inherits(v, "AsIs")) I(out) else out)
        }
        for (i in seq_along(v)) {
            if (!is.null(v[[i]])) v[[i]] <- bubble_prepare_value(v[[i]], nm[i])
        }
        return(v)
    }
    array <- length(v) != 1 || inherits(v, "AsIs") || name %in% bubble_array_members
    if (is.double(v)) {
        return(bubble_json_numbers(v, array))
    }
    if (is.atomic(v) && array && !inherits(v, "AsIs")) {
        return(I(v))
    }
    v
}
