# title: Chinese title, axes, legend and labels
# shows: bubble_spec() from a data.frame with Chinese column names and values; a factor keeps its level order in the legend; labels placed where they do not collide
cities <- data.frame(
  "城市" = c("北京", "天津", "石家庄", "太原", "上海", "南京", "杭州", "苏州", "合肥",
           "广州", "深圳", "南宁", "海口", "成都", "重庆", "昆明", "贵阳"),
  "地区" = factor(c(rep("华北", 4), rep("华东", 5), rep("华南", 4), rep("西南", 4)),
                levels = c("华北", "华东", "华南", "西南")),
  "常住人口" = c(2184, 1363, 1122, 543, 2475, 949, 1238, 1291, 963, 1873, 1766, 889,
               294, 2127, 3213, 860, 622),
  "人均GDP" = c(19.0, 11.9, 6.5, 9.4, 17.9, 17.9, 15.3, 18.6, 12.5, 15.4, 18.3, 6.1,
              7.0, 9.8, 9.1, 8.6, 8.0),
  "城镇化率" = c(87.6, 85.1, 71.7, 89.3, 89.3, 87.0, 84.0, 82.1, 85.5, 86.5, 99.8, 70.6,
               82.0, 79.9, 70.9, 81.0, 80.3),
  check.names = FALSE)
spec <- bubble_spec(cities, x = "人均GDP", y = "城镇化率", size = "常住人口",
                    color = "地区", label = "城市",
                    title = "主要城市的人口与人均GDP",
                    subtitle = "示例数据（近似值），气泡面积表示常住人口",
                    caption = "来源：各市统计公报（近似）",
                    width = 760, height = 520,
                    scales = list(x = list(title = "人均GDP（万元）"),
                                  y = list(title = "城镇化率（%）"),
                                  size = list(title = "常住人口（万人）", range = c(1, 22))))
