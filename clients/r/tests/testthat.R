# The package's tests.  Without a server they check what needs none
# (JSON, URLs, the ggplot converter, bubble_ggsave's arguments); with
# NGXBUBBLE_TEST_SERVER (and NGXBUBBLE_TEST_SIGNED, NGXBUBBLE_TEST_SECRET)
# they draw through it: t/016_r_client.t in the ngx_bubble repository
# starts nginx and runs them so.
library(testthat)
library(ngxbubble)

test_check("ngxbubble")
