#' The ngx_bubble server and secret used by default
#'
#' Every function that draws a chart takes `server`, the URL of an nginx
#' location with `bubble;`, and `secret`, that location's
#' `bubble_url_secret` (to sign chart URLs). When they are not given,
#' they come from here:
#'
#' * `bubble_server()`: the option `ngxbubble.server`, else the
#'   environment variable `NGXBUBBLE_SERVER`, else
#'   `"http://127.0.0.1:8080/chart"` (what `make run` serves).
#' * `bubble_secret()`: the option `ngxbubble.secret`, else the
#'   environment variable `NGXBUBBLE_SECRET`, else `NULL` (URLs are not
#'   signed).
#'
#' `bubble_available()` tells whether a server answers: it asks for a
#' 16 x 16 chart with `HEAD` and returns `TRUE` for a `200`. Examples and
#' vignettes use it to run only where a server is.
#'
#' @param server URL of a location with `bubble;`.
#' @param secret the location's signing secret, or `NULL`.
#' @param timeout seconds to wait for the connection and the answer.
#' @return `bubble_server()`: a string. `bubble_secret()`: a string or
#'   `NULL`. `bubble_available()`: `TRUE` or `FALSE`.
#' @examples
#' bubble_server()
#' old <- options(ngxbubble.server = "https://charts.example.com/chart")
#' bubble_server()
#' options(old)
#'
#' # a server on the default address?
#' bubble_available()
#' @export
bubble_server <- function() {
    s <- getOption("ngxbubble.server")
    if (is.null(s) || !nzchar(s)) s <- Sys.getenv("NGXBUBBLE_SERVER")
    if (!nzchar(s)) s <- "http://127.0.0.1:8080/chart"
    s
}

#' @rdname bubble_server
#' @export
bubble_secret <- function() {
    s <- getOption("ngxbubble.secret")
    if (is.null(s) || !nzchar(s)) s <- Sys.getenv("NGXBUBBLE_SECRET")
    if (nzchar(s)) s else NULL
}

#' @rdname bubble_server
#' @export
bubble_available <- function(server = bubble_server(), secret = bubble_secret(),
                             timeout = 2) {
    # HEAD answers what GET would: the chart must draw (16 x 16 has no
    # room for its panel, a 400), so a small one that does
    spec <- list(width = 160L, height = 120L, data = list(x = I(0), y = I(0)))
    url <- bubble_url(spec, server, secret = secret)
    h <- curl::new_handle(nobody = TRUE, connecttimeout = timeout, timeout = timeout)
    res <- tryCatch(curl::curl_fetch_memory(url, handle = h), error = function(e) NULL)
    !is.null(res) && res$status_code == 200
}

# The largest URL fetched with GET; longer specs are POSTed.
bubble_max_url <- function() {
    as.integer(getOption("ngxbubble.max_url", 8000L))
}
