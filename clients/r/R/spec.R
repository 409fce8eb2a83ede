# Specs from data.frames.

# A data.frame column as a spec column: numbers stay numbers, factors and
# logicals become strings, anything else is refused here rather than by
# the server.
bubble_column <- function(v, name) {
    if (is.factor(v) || is.logical(v)) {
        return(as.character(v))
    }
    if (inherits(v, c("Date", "POSIXt", "difftime"))) {
        stop(sprintf("column %s: a %s column; the spec takes numbers or strings",
                     name, class(v)[1]), call. = FALSE)
    }
    if (is.numeric(v)) {
        return(as.numeric(v))
    }
    if (is.character(v)) {
        return(v)
    }
    stop(sprintf("column %s: a %s column; the spec takes numbers or strings",
                 name, class(v)[1]), call. = FALSE)
}

# Column names from bubble_spec()'s arguments: "col", col, or NULL; a
# name that is no column but a variable holding a string gives that string.
bubble_arg_name <- function(e, cols, env) {
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
    stop("give a column as a name or a string, got ", deparse(e), call. = FALSE)
}

#' A bubble chart spec from a data.frame
#'
#' The spec of a bubble chart of `df`: columns are given as names or
#' strings, like `aes()` without expressions. Only the mapped columns are
#' sent. A factor colour keeps its level order (`color$limits`); factors
#' and logicals are sent as strings.
#'
#' @param df a data.frame.
#' @param x,y,size,color,label,tooltip columns of `df` (a name or a
#'   string; a variable holding a string also works): position, bubble
#'   size, colour, a text label next to each bubble, SVG hover text.
#' @param ... other top-level members of the spec (`docs/spec.md`):
#'   `title`, `subtitle`, `caption`, `theme` (`"gray"`, `"minimal"`,
#'   `"classic"`, `"dark"`), `width`, `height`, `scale`, `legend`, `font`,
#'   `alpha`, `stroke`, `background`.
#' @param scales a named list of scale members merged into the spec:
#'   `list(x = list(scale = "log10"), size = list(range = c(1, 24)))`.
#' @param facet a column: one panel per value (`facet_wrap()`).
#' @return a spec: a named list for [bubble_json()], [bubble_url()],
#'   [bubble_png()] and friends.
#' @examples
#' spec <- bubble_spec(mtcars, x = wt, y = mpg, size = hp, color = factor(cyl),
#'                     title = "Motor Trend cars", theme = "minimal",
#'                     scales = list(size = list(title = "horsepower")))
#' str(spec$mapping)
#'
#' ycol <- "qsec"
#' bubble_spec(mtcars, "wt", ycol)$mapping
#' @export
bubble_spec <- function(df, x, y, size = NULL, color = NULL, label = NULL,
                        tooltip = NULL, ..., scales = list(), facet = NULL) {
    if (!is.data.frame(df)) {
        stop("bubble_spec: df must be a data.frame", call. = FALSE)
    }
    env <- parent.frame()
    # factor(cyl) and other calls: the column is evaluated in df
    extra <- list()
    arg <- function(e, aes) {
        if (is.call(e)) {
            name <- paste(deparse(e), collapse = "")
            extra[[name]] <<- eval(e, df, env)
            return(name)
        }
        bubble_arg_name(e, names(df), env)
    }
    cols <- list(x = arg(substitute(x)), y = arg(substitute(y)),
                 size = arg(substitute(size)), color = arg(substitute(color)),
                 label = arg(substitute(label)), tooltip = arg(substitute(tooltip)))
    cols <- cols[!vapply(cols, is.null, TRUE)]
    facet_col <- arg(substitute(facet))
    for (n in names(extra)) df[[n]] <- extra[[n]]
    used <- unique(c(unlist(cols), facet_col))
    missing <- setdiff(used, names(df))
    if (length(missing)) {
        stop("bubble_spec: no column ", paste(missing, collapse = ", "), " in df",
             call. = FALSE)
    }
    data <- lapply(stats::setNames(used, used), function(n) bubble_column(df[[n]], n))
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
