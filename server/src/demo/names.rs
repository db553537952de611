//! Names in the style of the seed report (Yiyang, 2019): streets, communities, departments,
//! roads, people, and the problems residents whistle about.

/// Street offices of the central city.
pub const STREETS: &[&str] = &[
    "桃花仑街道",
    "赫山街道",
    "会龙山街道",
    "金银山街道",
    "汽车路街道",
    "大码头街道",
    "龙洲街道",
    "朝阳街道",
];

/// Stems of community names; each becomes 社区 (or 村 for urban villages).
pub const COMMUNITY_STEMS: &[&str] = &[
    "朝阳路",
    "梓山",
    "桃花",
    "碧云峰",
    "金花湖",
    "龙洲",
    "青龙洲",
    "康富",
    "银城",
    "马良",
    "白鹿寺",
    "秀峰",
    "资江",
    "会龙",
    "鹅羊池",
    "清溪",
    "迎宾",
    "金山",
    "万宝",
    "五一",
    "团洲",
    "长春",
    "兴隆",
    "南门口",
    "北门",
    "东风",
    "西流湾",
    "鱼形山",
    "三里桥",
    "新桥河",
    "白马山",
    "樟树",
    "七一五",
    "光明",
    "建设",
    "人民",
    "和平",
    "幸福",
    "民主",
    "学门口",
    "黄泥湖",
    "天子坟",
    "羊舞岭",
    "志溪",
    "茈湖口",
    "荷塘",
    "凤凰湖",
    "大渡口",
    "杨林坳",
    "关濑",
    "双桥",
    "碧桂园",
    "沧水铺",
    "泥江口",
    "八字哨",
    "龙光桥",
    "谢林港",
    "新市渡",
    "石长",
    "紫竹",
    "香铺仑",
    "栖霞",
    "高新",
    "梅林",
];

/// Municipal departments (市直单位), 93 of them as in the report.
pub const DEPARTMENTS: &[&str] = &[
    "市委办",
    "市政府办",
    "市纪委监委",
    "市委组织部",
    "市委宣传部",
    "市委统战部",
    "市委政法委",
    "市委编办",
    "市直机关工委",
    "市委党校",
    "市总工会",
    "团市委",
    "市妇联",
    "市科协",
    "市文联",
    "市工商联",
    "市残联",
    "市红十字会",
    "市发展和改革委员会",
    "市教育局",
    "市科技局",
    "市工业和信息化局",
    "市公安局",
    "市民政局",
    "市司法局",
    "市财政局",
    "市人社局",
    "市自然资源和规划局",
    "市生态环境局",
    "市住房和城乡建设局",
    "市交通运输局",
    "市水利局",
    "市农业农村局",
    "市商务局",
    "市文旅广体局",
    "市卫生健康委",
    "市退役军人事务局",
    "市应急管理局",
    "市审计局",
    "市国资委",
    "市市场监督管理局",
    "市统计局",
    "市医疗保障局",
    "市城市管理和综合执法局",
    "市林业局",
    "市信访局",
    "市机关事务局",
    "市行政审批服务局",
    "市数据资源局",
    "市人防办",
    "市供销社",
    "市住房公积金中心",
    "市公路养护中心",
    "市园林绿化中心",
    "市环境卫生管理处",
    "市路灯管理处",
    "市排水管理处",
    "市市政设施维护中心",
    "市房产服务中心",
    "市不动产登记中心",
    "市公安局交警支队",
    "市消防救援支队",
    "市气象局",
    "市税务局",
    "市烟草专卖局",
    "市邮政管理局",
    "益阳日报社",
    "市广播电视台",
    "市中心医院",
    "市第三人民医院",
    "市妇幼保健院",
    "市疾控中心",
    "益阳师范高专",
    "湖南城市学院",
    "益阳医专",
    "市第一中学",
    "市水务集团",
    "市燃气公司",
    "国网益阳供电公司",
    "中国移动益阳分公司",
    "中国电信益阳分公司",
    "中国联通益阳分公司",
    "市城建投集团",
    "市交通投资集团",
    "市公交公司",
    "市农商银行",
    "工商银行益阳分行",
    "建设银行益阳分行",
    "农业银行益阳分行",
    "中国银行益阳分行",
    "市住建执法支队",
    "市生态环境执法支队",
    "市市场监管执法支队",
];

/// Which categories a department handles, by what its name says it does.
pub fn categories_for(dept: &str, index: usize) -> Vec<&'static str> {
    const RULES: &[(&str, &[&str])] = &[
        (
            "城市管理",
            &["sanitation", "market", "construction", "roads"],
        ),
        ("环境卫生", &["sanitation"]),
        ("路灯", &["lighting"]),
        ("排水", &["drainage"]),
        ("水务", &["utilities", "drainage"]),
        ("水利", &["drainage"]),
        ("市政设施", &["roads", "drainage", "lighting"]),
        ("公路", &["roads"]),
        ("住房和城乡", &["property", "construction", "safety"]),
        ("住建执法", &["construction"]),
        ("房产", &["property"]),
        ("规划", &["construction"]),
        ("交通运输", &["roads", "traffic"]),
        ("交警", &["traffic"]),
        ("公交", &["traffic"]),
        ("园林", &["greening"]),
        ("林业", &["greening"]),
        ("生态环境", &["noise", "sanitation"]),
        ("市场监", &["market"]),
        ("应急", &["safety"]),
        ("消防", &["safety"]),
        ("燃气", &["utilities", "safety"]),
        ("供电", &["utilities", "lighting"]),
        ("公安局", &["noise", "safety"]),
        ("民政", &["elderly"]),
        ("残联", &["elderly"]),
        ("卫生健康", &["elderly", "sanitation"]),
        ("医院", &["elderly"]),
        ("疾控", &["sanitation"]),
        ("退役军人", &["elderly"]),
        ("商务", &["market"]),
    ];
    let mut out: Vec<&'static str> = Vec::new();
    for (word, cats) in RULES {
        if dept.contains(word) {
            for c in *cats {
                if !out.contains(c) {
                    out.push(c);
                }
            }
        }
    }
    // Every unit joins the civility campaign; units with no trade of their own help with
    // care visits, as the report's 93 units did, but never lead a trade's cases.
    out.push("civility");
    if out.len() == 1 && index.is_multiple_of(2) {
        out.push("elderly");
    }
    out
}

/// Roads and places for addresses.
pub const ROADS: &[&str] = &[
    "朝阳路",
    "康富路",
    "桃花仑路",
    "金山路",
    "银城大道",
    "龙洲路",
    "迎宾路",
    "五一路",
    "资阳大道",
    "梓山路",
    "会龙路",
    "秀峰路",
    "志溪路",
    "碧云路",
    "马良路",
    "长春路",
    "白马山路",
    "鹅羊池路",
];

/// Family and given names for staff and claimers.
pub const SURNAMES: &[&str] = &[
    "张", "王", "李", "刘", "陈", "杨", "黄", "赵", "周", "吴", "曹", "朱", "胡", "邓", "彭", "熊",
];
/// Given names.
pub const GIVEN: &[&str] = &[
    "伟", "芳", "娜", "敏", "静", "强", "磊", "军", "洋", "勇", "艳", "杰", "涛", "明", "超", "霞",
    "宏", "贵", "倩", "平",
];

/// Problems by category: (title, description); `{road}` and `{n}` are filled in.
pub fn problems(category: &str) -> &'static [(&'static str, &'static str)] {
    match category {
        "sanitation" => &[
            (
                "{road}垃圾堆积未清运",
                "{road}小区门口垃圾堆积已有{n}天，气味很大，居民反映强烈",
            ),
            (
                "背街小巷卫生死角",
                "{road}背街小巷有卫生死角，污水横流，蚊蝇滋生",
            ),
            (
                "垃圾山需要清运",
                "小区后坪堆起“垃圾山”，约{n}十车次，需组织车辆清运",
            ),
        ],
        "roads" => &[
            (
                "{road}路面坑洼",
                "{road}人行道有{n}处坑洼，雨天积水，老人小孩容易摔倒",
            ),
            ("井盖破损缺失", "{road}与巷口交汇处井盖破损，存在安全隐患"),
            ("人行道地砖松动", "{road}一段人行道地砖松动翘起约{n}十米"),
        ],
        "drainage" => &[
            (
                "下水道堵塞",
                "{road}小区下水道堵塞，污水漫到楼道口，需要疏通管道",
            ),
            ("雨后路段积水", "{road}低洼路段每逢下雨积水深达{n}十厘米"),
        ],
        "lighting" => &[
            (
                "{road}路灯不亮",
                "{road}有{n}盏路灯连续多日不亮，居民夜间出行不便",
            ),
            (
                "小区楼道灯损坏",
                "老旧小区{n}栋楼道灯损坏，老人上下楼看不清",
            ),
        ],
        "greening" => &[
            (
                "绿化带树木倒伏",
                "{road}绿化带有{n}棵树被风吹倒，压住人行道",
            ),
            ("游园杂草丛生", "社区游园杂草丛生，需要修剪补植"),
        ],
        "traffic" => &[
            (
                "{road}乱停车堵路",
                "{road}早晚高峰车辆乱停乱放，消防通道被堵",
            ),
            (
                "学校门口缺少斑马线",
                "学门口附近缺少斑马线和减速带，学生过马路危险",
            ),
        ],
        "market" => &[
            ("占道经营", "{road}菜市场周边占道经营，流动摊贩堵塞通行"),
            ("马路市场油烟扰民", "{road}夜宵摊占道经营，油烟大，深夜喧哗"),
        ],
        "construction" => &[
            ("楼顶违章搭建", "{road}{n}栋楼顶有违章搭建，存在安全隐患"),
            ("私自占用公共绿地", "有住户私自圈占小区公共绿地种菜搭棚"),
        ],
        "property" => &[
            (
                "老旧小区无物业管理",
                "老旧小区无人管理，化粪池满溢，需要协调物业",
            ),
            (
                "电梯频繁故障",
                "{road}小区{n}号楼电梯频繁停运，多次报修无果",
            ),
        ],
        "utilities" => &[
            ("小区停水", "{road}小区已停水{n}小时，未见通知"),
            ("燃气管道老化", "老旧小区燃气管道锈蚀老化，居民担心泄漏"),
        ],
        "safety" => &[
            (
                "电动车楼道充电",
                "{road}小区多户居民在楼道给电动车充电，消防隐患突出",
            ),
            ("危房墙体开裂", "{road}{n}号老房子墙体开裂，需鉴定是否危房"),
        ],
        "noise" => &[
            ("夜间施工噪声", "{road}工地夜间施工到凌晨，噪声扰民"),
            ("广场舞音响过大", "游园广场舞音响声音过大，影响周边居民休息"),
        ],
        "elderly" => &[
            (
                "独居老人需要帮扶",
                "{road}有独居老人行动不便，需要定期上门探望",
            ),
            ("残疾人出行无障碍设施缺失", "社区服务中心门口没有无障碍坡道"),
        ],
        _ => &[
            (
                "文明劝导需要支援",
                "{road}路口闯红灯、乱穿马路现象多，需要志愿者文明劝导",
            ),
            (
                "小区楼道小广告泛滥",
                "{road}小区楼道“牛皮癣”小广告泛滥，需要集中清理",
            ),
        ],
    }
}

/// Replies departments send when they have fixed it.
pub const REPLIES: &[&str] = &[
    "已派专干到现场处理完毕，请社区确认。",
    "已组织人员清运完毕，并安排定期巡查。",
    "已完成维修，后续纳入日常养护。",
    "已协调相关单位现场解决，居民表示认可。",
    "问题已整改到位，附现场照片备查。",
];

/// Reasons communities give for reopening.
pub const REOPEN_REASONS: &[&str] = &[
    "居民反映问题仍然存在",
    "只处理了一部分，还有遗留",
    "整改后又出现反复",
];

/// Why a department returns a case (退单).
pub const RETURN_REASONS: &[&str] = &[
    "该路段不属于本单位管辖",
    "属于物业服务范围，非本部门职责",
    "该设施产权属于供电公司",
];

/// Why a department asks for more time (延期).
pub const EXTENSION_REASONS: &[&str] = &[
    "需更换整段管线，材料三天后到货",
    "涉及多个产权单位，需协调",
    "雨天无法施工，待天晴后处理",
];

/// What residents say when called back (回访).
pub const CALLBACK_NOTES: &[&str] = &[
    "居民表示已经修好，很满意",
    "居民说处理及时，希望以后多巡查",
    "居民反映基本解决，还有点小问题",
];

/// Micro-wishes (微心愿) and their value in yuan.
pub const WISHES: &[(&str, i64)] = &[
    ("给留守儿童买一个新书包", 120),
    ("为独居老人修好家里的电灯", 80),
    ("希望有人陪孤寡老人聊聊天", 0),
    ("想要一台二手轮椅", 600),
    ("给困难家庭孩子买一套学习用品", 150),
    ("帮忙修理漏水的屋顶", 900),
    ("想要一床新棉被过冬", 260),
    ("希望有人辅导孩子功课", 0),
    ("为小区老人添置健身器材", 3500),
    ("给社区图书角捐些儿童读物", 500),
    ("想要一台电风扇", 180),
    ("帮残疾人办理证件跑腿", 0),
];

/// Claimers who are people rather than departments.
pub const VOLUNTEERS: &[&str] = &[
    "党员志愿者 曹贵",
    "党员志愿者 朱宏",
    "志愿者 李倩",
    "党员 彭涛",
    "志愿者 熊艳",
];

/// Words between staff on a case (internal notes).
pub const INTERNAL_NOTES: &[&str] = &[
    "已电话联系物业经理，对方同意配合",
    "该路段上月已报修过一次，请关注是否同一问题",
    "居民情绪较大，请到场时注意沟通方式",
    "已与社区网格员确认现场位置",
    "涉及两个小区交界，请先核实产权",
];

/// What a department tells the residents while it works (public notes).
pub const PUBLIC_NOTES: &[&str] = &[
    "已联系供电部门，预计明日上午停电检修，请居民提前做好准备",
    "材料已订购，到货后立即施工",
    "施工期间请绕行，注意安全",
    "已安排专人每日巡查，直至问题解决",
];
