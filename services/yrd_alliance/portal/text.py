"""Every word the portal shows, in Chinese (the default) and English."""

from __future__ import annotations

LANGUAGES = ("zh", "en")

REGIONS = {
    "zh": {"sh": "上海", "hz": "杭州", "zjg": "张家港"},
    "en": {"sh": "Shanghai", "hz": "Hangzhou", "zjg": "Zhangjiagang"},
}
CATEGORIES = {
    "zh": {
        1: "实验室与设备",
        2: "空间与场地",
        3: "专家与导师",
        4: "金融与投资",
        5: "政策与政务",
        6: "人才与培训",
    },
    "en": {
        1: "Labs & equipment",
        2: "Spaces & venues",
        3: "Experts & mentors",
        4: "Finance & investment",
        5: "Policy & government",
        6: "Talent & training",
    },
}
CHAINS = {
    "zh": {
        1: "冶金新材料",
        2: "生物医药",
        3: "高端纺织",
        4: "智能装备",
        5: "新能源",
        6: "集成电路",
        7: "数字经济",
        8: "港口物流",
    },
    "en": {
        1: "Metallurgy & new materials",
        2: "Biomedicine",
        3: "High-end textiles",
        4: "Intelligent equipment",
        5: "New energy",
        6: "Integrated circuits",
        7: "Digital economy",
        8: "Port logistics",
    },
}
LEVELS = {
    "zh": {1: "国家级", 2: "省级", 3: "市级", 4: "其他"},
    "en": {1: "national", 2: "provincial", 3: "municipal", 4: "other"},
}
REQUEST_STATES = {
    "zh": {
        1: "待处理",
        2: "已批准",
        3: "已拒绝",
        4: "已过期",
        5: "候补中",
        6: "已取消",
        7: "已完成",
    },
    "en": {
        1: "PENDING",
        2: "APPROVED",
        3: "DECLINED",
        4: "EXPIRED",
        5: "WAITLISTED",
        6: "CANCELLED",
        7: "FULFILLED",
    },
}
BOOKING_STATES = {
    "zh": {
        1: "已预留",
        2: "候补中",
        3: "已批准",
        4: "已拒绝",
        5: "已过期",
        6: "已释放",
        7: "已完成",
    },
    "en": {
        1: "HELD",
        2: "WAITLISTED",
        3: "APPROVED",
        4: "DECLINED",
        5: "EXPIRED",
        6: "RELEASED",
        7: "FULFILLED",
    },
}
LEGAL_AREAS = {
    "zh": {
        1: "公司治理",
        2: "知识产权",
        3: "劳动用工",
        4: "投融资",
        5: "合同",
        6: "合规",
        7: "数据与隐私",
        8: "税务",
        9: "争议解决",
    },
    "en": {
        1: "corporate",
        2: "intellectual property",
        3: "labour",
        4: "financing",
        5: "contracts",
        6: "compliance",
        7: "data & privacy",
        8: "tax",
        9: "disputes",
    },
}

WORDS = {
    "zh": {
        "title": "长三角科创孵化载体联盟",
        "supermarket": "红堡超市",
        "map": "海棠地图",
        "pairs": "律师结对",
        "live": "实时动态",
        "my_requests": "我的申请",
        "incoming": "待我审批",
        "sign_in": "登录",
        "sign_out": "退出",
        "signed_in_as": "当前身份",
        "visitor": "访客（仅见公开信息）",
        "search": "搜索",
        "search_placeholder": "搜索资源，如 路演、检测实验室、lab",
        "all": "全部",
        "category": "类别",
        "region": "地区",
        "chain": "产业链",
        "order": "排序",
        "relevance": "相关度",
        "recent": "最新",
        "results": "条结果",
        "estimated": "约",
        "next_page": "下一页",
        "no_results": "没有找到资源。",
        "owner": "提供方",
        "capacity": "容量",
        "unlimited": "不限",
        "units": "份",
        "terms": "条件",
        "free": "免费",
        "price": "价格",
        "availability": "开放时间",
        "free_units": "该时段可用",
        "check": "查询",
        "window_start": "开始",
        "window_end": "结束",
        "ask": "一键申请",
        "purpose": "用途",
        "request_units": "数量",
        "sign_in_to_ask": "登录后即可申请。",
        "state": "状态",
        "resource": "资源",
        "requester": "申请方",
        "window": "时段",
        "reason": "原因",
        "approve": "批准",
        "decline": "拒绝",
        "cancel": "取消",
        "held": "已预留",
        "waitlist": "候补第",
        "none_yet": "暂无。",
        "new_requests": "有新的申请，点此刷新查看",
        "token": "令牌",
        "token_help": "粘贴联盟运营方签发的令牌（alliance token issue）。",
        "lawyers_paired": "结对律师",
        "startups": "在孵企业",
        "shared": "共享资源",
        "requests_between": "跨区域申请",
        "checkups_booked": "已预约体检",
        "checkups_completed": "已完成体检",
        "score": "得分",
        "why": "理由",
        "lawyer": "律师",
        "carrier": "孵化载体",
        "level": "级别",
        "feed_waiting": "等待新动态……",
        "error": "出错了",
        "language": "English",
    },
    "en": {
        "title": "Yangtze River Delta Incubator Alliance",
        "supermarket": "Service supermarket",
        "map": "Alliance map",
        "pairs": "Lawyer pairs",
        "live": "Live",
        "my_requests": "My requests",
        "incoming": "To approve",
        "sign_in": "Sign in",
        "sign_out": "Sign out",
        "signed_in_as": "Signed in as",
        "visitor": "Visitor (public information only)",
        "search": "Search",
        "search_placeholder": "Search resources, e.g. 路演, 检测实验室, lab",
        "all": "All",
        "category": "Category",
        "region": "Region",
        "chain": "Industrial chain",
        "order": "Order",
        "relevance": "relevance",
        "recent": "newest",
        "results": "results",
        "estimated": "about",
        "next_page": "Next page",
        "no_results": "No resources found.",
        "owner": "Offered by",
        "capacity": "Capacity",
        "unlimited": "unlimited",
        "units": "units",
        "terms": "Terms",
        "free": "free of charge",
        "price": "Price",
        "availability": "Open",
        "free_units": "Free in this window",
        "check": "Check",
        "window_start": "From",
        "window_end": "To",
        "ask": "Ask for it",
        "purpose": "Purpose",
        "request_units": "Units",
        "sign_in_to_ask": "Sign in to ask for it.",
        "state": "State",
        "resource": "Resource",
        "requester": "Requester",
        "window": "Window",
        "reason": "Reason",
        "approve": "Approve",
        "decline": "Decline",
        "cancel": "Cancel",
        "held": "held",
        "waitlist": "waitlist no.",
        "none_yet": "None yet.",
        "new_requests": "New requests have arrived: reload to see them",
        "token": "Token",
        "token_help": "Paste the token the alliance's operator issued you (alliance token issue).",
        "lawyers_paired": "Lawyers paired",
        "startups": "Startups",
        "shared": "Resources shared",
        "requests_between": "Requests across regions",
        "checkups_booked": "Check-ups booked",
        "checkups_completed": "Check-ups completed",
        "score": "Score",
        "why": "Why",
        "lawyer": "Lawyer",
        "carrier": "Carrier",
        "level": "Level",
        "feed_waiting": "Waiting for events…",
        "error": "Something went wrong",
        "language": "中文",
    },
}


class Text:
    """The words of one language, for templates: `t.search`, `t.category_name(1)`."""

    def __init__(self, lang: str) -> None:
        self.lang = lang if lang in LANGUAGES else "zh"
        self._words = WORDS[self.lang]

    def __getattr__(self, key: str) -> str:
        try:
            return self._words[key]
        except KeyError:
            raise AttributeError(key) from None

    def region_name(self, region: str) -> str:
        return REGIONS[self.lang].get(region, region)

    def category_name(self, value: int) -> str:
        return CATEGORIES[self.lang].get(value, "?")

    def chain_name(self, value: int) -> str:
        return CHAINS[self.lang].get(value, "?")

    def level_name(self, value: int) -> str:
        return LEVELS[self.lang].get(value, "?")

    def request_state(self, value: int) -> str:
        return REQUEST_STATES[self.lang].get(value, "?")

    def booking_state(self, value: int) -> str:
        return BOOKING_STATES[self.lang].get(value, "?")

    def legal_area(self, value: int) -> str:
        return LEGAL_AREAS[self.lang].get(value, "?")
