"""Templates and word lists of the heysh demo corpus, written for heysh.

English topics live here, Swedish ones in ``_demo_vocabulary_sv``.

Private to ``heysh.data.demo``. Everything here is invented for the demo: the
people, clubs, companies and figures are fictional, and no sentence is taken
from a dataset. ``{slot}`` marks are filled from the topic's ``slots``, then
from the language's generic slots, then by the number generators in demo.py.

Each topic has ``headlines`` and ``sentences``. Neighbouring topics share
generic words with the domains on purpose (``power``, ``model``, ``patients``,
``skog``, ``trafik``), and the keyword-trap topics use a domain's keywords in
another sense, so no single word decides relevance.
"""

from __future__ import annotations

from typing import Any

from heysh.data._demo_vocabulary_sv import FILLER_SV, GENERIC_SLOTS_SV, SWEDISH_TOPICS

GENERIC_SLOTS: dict[str, dict[str, list[str]]] = {
    "en": {
        "place": [
            "Leeds",
            "Rotterdam",
            "Lyon",
            "Porto",
            "Gdansk",
            "Aarhus",
            "Bilbao",
            "Cork",
            "Turin",
            "Graz",
            "Tampere",
            "Nantes",
            "Bristol",
            "Ghent",
            "Brno",
            "Galway",
            "Utrecht",
            "Malaga",
        ],
        "person": [
            "Anna Hartley",
            "David Okafor",
            "Priya Novak",
            "Tomasz Brennan",
            "Grace Lindgren",
            "Samuel Moreau",
            "Leila Castillo",
            "Martin Whitaker",
            "Chloe Osei",
            "Ibrahim Fischer",
            "Helen Kaur",
            "Oscar Sato",
            "Nadia Doyle",
            "Peter Marsh",
            "Ruth Albers",
            "Jonas Keane",
        ],
        "month": [
            "January",
            "February",
            "March",
            "April",
            "May",
            "June",
            "July",
            "August",
            "September",
            "October",
            "November",
            "December",
        ],
        "weekday": ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"],
        "region": [
            "the north-east",
            "the coastal counties",
            "the southern provinces",
            "the border region",
            "the western valleys",
            "the capital region",
        ],
        "period": ["week", "month", "quarter", "year"],
    },
    "sv": GENERIC_SLOTS_SV,
}

# Sentences with no topic at all; they pad documents and open "buried" ones.
FILLER: dict[str, list[str]] = {
    "en": [
        "The announcement follows months of consultation with local residents.",
        "Further details are expected to be published later this {period}.",
        "{person}, who has followed the issue for years, said the decision was "
        "overdue.",
        "Not everyone is convinced.",
        "The figures were released on {weekday} and will be reviewed again in {month}.",
        "A spokesperson declined to comment on the timetable.",
        "Similar plans have been discussed in {place} and {place}.",
        "The report runs to more than {num} pages and makes several recommendations.",
        "Opposition politicians called for an independent review of the costs.",
        "It is the first time such a scheme has been tried in the country.",
        "Funding will come partly from the national budget and partly from investors.",
        "Some observers warned that the costs could rise before the work is finished.",
        "The meeting in {place} lasted most of the afternoon.",
        "Local newspapers have covered the story extensively since {month}.",
        "Residents were invited to an open evening to ask questions.",
        "The organisation said it would publish its own assessment in the spring.",
        "According to {person}, the timetable remains realistic but tight.",
        "Several questions remain unanswered, including who will pay for maintenance.",
        "The board will meet again on {weekday} to discuss the next steps.",
        "Earlier attempts in {region} ran into legal challenges.",
    ],
    "sv": FILLER_SV,
}

_RENEWABLE: dict[str, Any] = {
    "lang": "en",
    "headlines": [
        "New {re_site} approved near {place}",
        "Grid queue holds back {re_site_pl}",
        "{place} cooperative switches on its {re_site}",
        "Clean power auction draws record bids",
        "Storage boom changes how the evening peak is met",
        "Record year for low-carbon generation in {region}",
    ],
    "sentences": [
        "The {re_site} near {place} will have a capacity of {num} megawatts once it is"
        " connected to the grid.",
        "{re_org} said the project would supply enough {re_power} for about {num} "
        "thousand homes.",
        "Developers blamed delays on the long queue for grid connections, which has "
        "held back {re_site_pl} across {region}.",
        "Battery storage lets operators shift surplus output from sunny afternoons "
        "into the evening peak.",
        "Output from the {re_turbines} fell {pct} per cent in {month} as wind speeds "
        "dropped below the seasonal average.",
        "The latest auction awarded contracts to {num} projects at a strike price well"
        " below last year's.",
        "Installers reported record demand for rooftop panels and heat pumps after the"
        " subsidy was extended.",
        "Critics argued that new transmission lines would scar the landscape, while "
        "supporters pointed to lower bills.",
        "The cooperative lets residents buy shares in the {re_turbines} and receive a "
        "dividend from the electricity sold.",
        "Curtailment payments rose because the network could not carry all the power "
        "produced on windy nights.",
        "Engineers are testing floating foundations that allow {re_turbines} to be "
        "moored in deeper water.",
        "The plan aims to decarbonise the power sector by {year}, with solar and wind "
        "providing most new capacity.",
        "Module prices have fallen by more than {pct} per cent in five years, making "
        "unsubsidised arrays viable.",
        "Reservoirs behind the hydro dams were low after a dry summer, so the country "
        "imported more electricity.",
        "A repowering programme will replace ageing {re_turbines} with fewer, taller "
        "machines that generate more.",
        "Planners approved the photovoltaic array on former farmland on condition that"
        " sheep could still graze between the rows.",
        "Geothermal wells drilled to {num} metres will feed heat into the district "
        "heating network.",
        "{re_org} expects {re_power} to cover {pct} per cent of demand on sunny "
        "weekends this summer.",
        "The developer signed a fifteen-year power purchase agreement with a "
        "steelmaker to sell the plant's output.",
        "Tidal stream turbines off the headland have now run for {num} days without a "
        "major fault.",
        "Falling interest rates have lowered the cost of financing offshore arrays, "
        "{person} said.",
        "The interconnector will let surplus {re_power} flow to neighbouring countries"
        " when demand is low.",
    ],
    "slots": {
        "re_site": [
            "solar farm",
            "offshore wind farm",
            "onshore wind park",
            "photovoltaic array",
            "hydroelectric plant",
            "battery storage site",
            "geothermal plant",
            "community wind turbine",
            "tidal energy scheme",
        ],
        "re_turbines": ["turbines", "wind turbines", "wind generators", "machines"],
        "re_site_pl": [
            "solar farms",
            "wind projects",
            "battery parks",
            "rooftop solar schemes",
            "hybrid solar and storage projects",
        ],
        "re_power": [
            "clean electricity",
            "green power",
            "low-carbon electricity",
            "renewable power",
            "zero-carbon generation",
        ],
        "re_org": [
            "The grid operator",
            "The energy regulator",
            "A community energy group",
            "The developer",
            "The national energy agency",
            "The utility",
        ],
    },
}

_FOOTBALL: dict[str, Any] = {
    "lang": "en",
    "headlines": [
        "{club} stun {club} with late winner",
        "Manager under pressure after third defeat",
        "{club} complete signing of {player_role}",
        "Cup tie decided on penalties",
        "Record crowd for women's derby",
        "Relegation battle tightens at the bottom",
    ],
    "sentences": [
        "{club} came from behind to beat {club} {score} in front of {num} supporters.",
        "The {player_role}'s late header secured a place in the cup quarter-finals.",
        "{person}, the manager, said the squad had shown character after a difficult "
        "run of away fixtures.",
        "The transfer window closes on {weekday} and the club is still chasing a "
        "central defender.",
        "A penalty was awarded after a video review, to the fury of the home bench.",
        "The {player_role} signed a {small}-year contract reportedly worth {num} "
        "million euros.",
        "Relegation fears deepened after a third successive home defeat.",
        "The goalkeeper kept a clean sheet for the fifth league game in a row.",
        "Supporters' groups protested against rising ticket prices before kick-off.",
        "Academy graduates made up half of the starting eleven on {weekday} night.",
        "League rules limit how much clubs may spend on wages relative to their "
        "turnover.",
        "The women's team sold out the stadium for the first time, drawing a record "
        "attendance.",
        "Extra time could not separate the sides and the tie went to a shoot-out.",
        "The winger was sent off for a second booking shortly before half-time.",
        "{club} sit {small} points clear at the top of the table with {small} matches "
        "left.",
        "The derby finished level after an equaliser deep into stoppage time.",
        "The {player_role} has scored {small} goals in his last {small} appearances.",
        "Fans unveiled a banner honouring the club's founders before the match.",
        "The board confirmed that the coach will stay until the end of the season.",
        "The stadium's new stand will raise capacity to {num} thousand for next "
        "season.",
        "The referee showed {small} yellow cards in a bad-tempered first half.",
        "Scouts from several top-flight clubs watched the teenage {player_role} on "
        "loan at {club}.",
    ],
    "slots": {
        "club": [
            "Northbridge United",
            "Castlefield Rovers",
            "Athletic Varde",
            "FC Lindholm",
            "Sporting Tavira",
            "Real Castellon",
            "Harbour City",
            "Dynamo Brno",
            "Westmoor Albion",
            "Olympique Sarlat",
        ],
        "player_role": [
            "striker",
            "midfielder",
            "centre-back",
            "winger",
            "goalkeeper",
            "full-back",
            "playmaker",
        ],
    },
}

_MACHINE_LEARNING: dict[str, Any] = {
    "lang": "en",
    "headlines": [
        "New training method cuts {ml_model} error",
        "Benchmark results questioned by reviewers",
        "Researchers release open {ml_model}",
        "Study finds gains vanish under distribution shift",
        "Smaller networks match larger ones, paper claims",
        "Workshop debates how to evaluate {ml_model_pl}",
    ],
    "sentences": [
        "The researchers trained a {ml_model} on {num} million examples and evaluated "
        "it on {ml_bench}.",
        "The preprint reports a {pct} per cent reduction in error on the {ml_bench} "
        "benchmark.",
        "Their method fine-tunes a pretrained {ml_model} with only a few hundred "
        "labelled samples.",
        "The team found that the gains disappeared when the test data came from a "
        "different distribution.",
        "Ablation studies show that most of the improvement comes from the new "
        "attention mechanism.",
        "The authors released their code and weights so that other groups can "
        "reproduce the results.",
        "Reviewers at the conference asked whether the benchmark leaks examples from "
        "the training set.",
        "Plain gradient descent with a well-tuned learning-rate schedule was enough to"
        " match larger {ml_model_pl}.",
        "A graph neural network predicted the properties of molecules more accurately "
        "than earlier approaches.",
        "Reinforcement learning agents learned to control a robot arm in simulation "
        "before being tested on hardware.",
        "The study measures how the calibration of predicted probabilities degrades as"
        " {ml_model_pl} are scaled up.",
        "Self-supervised pretraining on unlabelled images reduced the need for "
        "annotated data.",
        "Pruning removed {pct} per cent of the network's weights while keeping "
        "accuracy within one point.",
        "The workshop focused on interpretability, fairness and robustness of "
        "statistical learning systems.",
        "{person}, who led the project at the university lab in {place}, said the "
        "dataset took two years to build.",
        "The paper compares {small} optimisers across {num} training runs with "
        "different random seeds.",
        "Cross-validation showed that the simpler {ml_model} overfitted less on small "
        "samples.",
        "Distillation let a student network run on a laptop with little loss of "
        "quality.",
        "The group proposes a new loss function that penalises overconfident "
        "predictions.",
        "Hyperparameter searches of that size consume a great deal of compute, the "
        "authors acknowledge.",
        "Their experiments suggest that data quality matters more than the number of "
        "parameters.",
        "The benchmark's leaderboard has been topped by {num} different methods in two"
        " years.",
    ],
    "slots": {
        "ml_model": [
            "transformer model",
            "neural network",
            "language model",
            "gradient-boosted classifier",
            "vision transformer",
            "diffusion model",
            "recurrent network",
            "kernel method",
        ],
        "ml_model_pl": [
            "neural networks",
            "language models",
            "deep learning systems",
            "classifiers",
            "predictive models",
        ],
        "ml_bench": [
            "an image-recognition benchmark",
            "a question-answering suite",
            "a speech-recognition test set",
            "a held-out translation corpus",
            "a medical-imaging dataset",
        ],
    },
}

_PUBLIC_HEALTH: dict[str, Any] = {
    "lang": "en",
    "headlines": [
        "Vaccination rates fall below target in {region}",
        "Health agency steps up measles warning",
        "Sugar tax cuts soft drink consumption",
        "Screening programme extended to younger adults",
        "Life expectancy gap widens between neighbourhoods",
        "Flu season starts early, officials warn",
    ],
    "sentences": [
        "Vaccination rates among children under five fell to {pct} per cent, below the"
        " level needed for herd immunity.",
        "{ph_org} launched a campaign to reduce smoking among young adults.",
        "Surveillance data show that measles cases have risen in {small} regions this "
        "year.",
        "Epidemiologists warned that the outbreak could spread further once schools "
        "reopen.",
        "A levy on sugary drinks introduced two years ago has cut consumption "
        "markedly.",
        "The screening programme aims to detect bowel cancer earlier in people over "
        "fifty.",
        "Air pollution is linked to thousands of premature deaths each year, the "
        "report says.",
        "The gap in life expectancy between the richest and poorest neighbourhoods has"
        " widened to {small} years.",
        "Officials urged people to wash their hands and stay at home if they develop "
        "symptoms.",
        "The ministry will fund mental health support in schools and community "
        "centres.",
        "Contact tracers followed up {num} people linked to the cluster in {place}.",
        "Rates of obesity among adults have doubled since the 1990s.",
        "Clean water and sanitation projects reduced diarrhoeal disease in rural "
        "districts.",
        "{ph_org} advised pregnant women and the over-65s to get the seasonal flu jab.",
        "The prevalence of type 2 diabetes is rising fastest among people in their "
        "forties.",
        "Researchers tracking the population found that regular walking lowered the "
        "risk of heart disease.",
        "{ph_org} recommends that alcohol labels carry clearer warnings about cancer "
        "risk.",
        "Wastewater testing picked up the virus in {place} days before cases were "
        "reported.",
        "The {ph_plan} sets targets for cutting childhood obesity by {year}.",
        "Free school meals were extended to improve the nutrition of children from "
        "low-income families.",
        "Heatwave plans tell care homes how to protect elderly residents from "
        "dehydration.",
        "Uptake of the HPV vaccine rose to {pct} per cent after it was offered to boys"
        " as well as girls.",
    ],
    "slots": {
        "ph_org": [
            "The public health agency",
            "The health ministry",
            "The regional health authority",
            "The national institute of public health",
            "The chief medical officer",
        ],
        "ph_plan": [
            "national prevention strategy",
            "new public health plan",
            "ten-year health improvement programme",
        ],
    },
}

# Topics next to a domain: not relevant, but close (hard negatives).
_FOSSIL_ENERGY: dict[str, Any] = {
    "lang": "en",
    "headlines": [
        "Gas-fired plant gets extension",
        "Oil major raises output forecast",
        "Coal plant closure delayed again",
        "Petrol prices climb at the pump",
    ],
    "sentences": [
        "Gas plants are switched on whenever the wind drops and prices spike.",
        "The plant's two gas turbines were overhauled before the winter.",
        "Steam turbines at the coal station date from the 1970s.",
        "Output from the refinery fell after a fire in {month}.",
        "The gas-fired power station near {place} will run for another {small} years "
        "under the new agreement.",
        "The oil company raised its production forecast to {num} thousand barrels a "
        "day.",
        "The closure of the last coal plant was postponed to keep the lights on during"
        " winter.",
        "Drivers paid {pct} per cent more for petrol than a year ago.",
        "A new pipeline will carry natural gas from the offshore field to the "
        "refinery.",
        "The utility burned more gas in {month} because of a cold snap, pushing up "
        "electricity prices.",
        "Refinery margins improved as demand for diesel recovered.",
        "The grid operator kept oil-fired reserve units on standby during the evening "
        "peak.",
        "Drilling resumed at the field after inspectors approved the safety case.",
        "Energy traders expect gas prices to stay high until storage sites are "
        "refilled.",
        "The government granted {small} new licences for oil and gas exploration in "
        "the north sea.",
    ],
    "slots": {},
}

_OTHER_SPORTS: dict[str, Any] = {
    "lang": "en",
    "headlines": [
        "Ice hockey champions retain their title",
        "Tennis star withdraws with injury",
        "Handball team books place at championships",
        "Rugby side names new coach",
    ],
    "sentences": [
        "Several clubs in the rugby league are struggling to pay their players.",
        "The ice hockey side won the final series in {small} games after a tense "
        "overtime.",
        "The tennis player withdrew from the tournament with a wrist injury before the"
        " semi-final.",
        "The handball team beat their rivals {score} to qualify for the championships.",
        "The rugby club named a new head coach after a disappointing season in the "
        "league.",
        "The cyclist took the leader's jersey on the mountain stage.",
        "The basketball team sold out their arena for the play-off match against "
        "{place}.",
        "The sprinter set a national record of {small}.{small} seconds in the hundred "
        "metres.",
        "The hockey goaltender made {num} saves as his team kept their rivals "
        "scoreless.",
        "The coach praised his players' defending after a narrow win in the cup match.",
        "Fans queued for hours to buy season tickets for the new arena.",
        "The swimmer won her third gold medal of the championships in the relay.",
    ],
    "slots": {},
}

_CONSUMER_TECH: dict[str, Any] = {
    "lang": "en",
    "headlines": [
        "Phone maker unveils new flagship model",
        "App update angers users",
        "Chip shortage hits laptop sales",
        "Cloud outage disrupts online shops",
    ],
    "sentences": [
        "In benchmark tests the new chip was {pct} per cent faster than the old one.",
        "The phone's camera uses machine learning to sharpen photos taken at night.",
        "The phone maker unveiled its new flagship model with a built-in AI assistant "
        "and a brighter screen.",
        "The latest app update changed the layout, and many users asked for the old "
        "design back.",
        "Laptop sales fell {pct} per cent because of a shortage of chips.",
        "A cloud outage left online shops unable to take payments for {small} hours.",
        "The company said its smart speaker now understands more languages.",
        "Shares in the software firm rose after it reported strong subscription "
        "growth.",
        "The new games console sold out within minutes of going on sale.",
        "Customers complained that the smartwatch battery barely lasts a day.",
        "The data centre in {place} will use outside air for cooling to save energy.",
        "The streaming service raised its monthly price for the second time this year.",
        "The start-up raised {num} million euros to build a chatbot for customer "
        "service.",
    ],
    "slots": {},
}

_CLINICAL_CARE: dict[str, Any] = {
    "lang": "en",
    "headlines": [
        "Hospital waiting lists grow again",
        "Surgeons pioneer new knee operation",
        "Nurse shortage closes ward",
        "New scanner speeds up diagnosis",
    ],
    "sentences": [
        "Infections among patients on the ward fell after cleaning was stepped up.",
        "Among the new treatments is a drug that shortens recovery after surgery.",
        "Waiting lists for hip and knee operations at the hospital in {place} have "
        "grown to {num} patients.",
        "The surgeon performed the first robot-assisted knee replacement at the "
        "clinic.",
        "A shortage of nurses forced the hospital to close a ward over the weekend.",
        "The new scanner lets radiologists diagnose patients in half the time.",
        "The hospital trust reported a deficit of {num} million after paying for "
        "agency staff.",
        "The patient recovered after a six-hour operation to repair her heart valve.",
        "Doctors at the emergency department treated {num} patients on {weekday} "
        "night.",
        "The pharmacy chain will offer appointments for minor illnesses without a "
        "referral.",
        "The GP surgery introduced online booking to reduce queues on the phone line.",
        "The cancer ward received a donation to buy a second radiotherapy machine.",
        "Ambulance response times improved after extra crews were hired.",
    ],
    "slots": {},
}

# Off-topic topics and keyword traps (a domain's word in another sense).
_OFF_TOPIC_EN: dict[str, Any] = {
    "lang": "en",
    "headlines": [
        "House prices edge up",
        "Chef opens seasonal restaurant",
        "Orchestra announces new season",
        "Council approves library budget",
        "Museum reopens after renovation",
    ],
    "sentences": [
        "Among the works on show are portraits lent by private collectors.",
        "House prices in {place} rose {pct} per cent over the year, the estate agents "
        "said.",
        "The chef's new restaurant serves dishes made from local produce.",
        "The orchestra's new season opens with a symphony by a young composer.",
        "The council approved the library budget after a long debate.",
        "The museum reopened after a renovation that took {small} years.",
        "Mortgage rates fell for the third month in a row.",
        "The novel won the prize for best debut of the year.",
        "Volunteers cleaned the beach and collected {num} bags of litter.",
        "The bakery's sourdough sells out before nine every morning.",
        "The gallery shows paintings by artists from {place}.",
        "Rents for small flats have risen faster than wages.",
        "The festival programme includes jazz, folk and a children's choir.",
    ],
    "slots": {},
}

# Keyword traps: each uses words of one domain in another sense.
_TRAPS: dict[str, dict[str, Any]] = {
    "renewable-energy": {
        "lang": "en",
        "headlines": ["Eclipse watchers gather", "Wind chill warning issued"],
        "sentences": [
            "Crowds gathered in {place} to watch the solar eclipse through special "
            "glasses.",
            "Forecasters warned that the wind chill would make it feel like minus "
            "{small} degrees.",
            "The power of attorney lets her son manage her bank accounts.",
            "Solar flares can disturb radio communication, the astronomers explained.",
            "The storm's strong winds brought down trees across {region}.",
            "The sculpture, called Green Energy, was unveiled in the town square.",
        ],
        "slots": {},
    },
    "football": {
        "lang": "en",
        "headlines": ["Budget becomes a political football", "Hailstones damage cars"],
        "sentences": [
            "The budget has become a political football between the two parties.",
            "Hailstones the size of footballs damaged cars in {place}.",
            "The company's goal is to join the top league of exporters within {small} "
            "years.",
            "The charity ball raised {num} thousand euros for the hospice.",
            "Ministers kicked the decision into the long grass once again.",
            "The school's chess club won the regional league.",
        ],
        "slots": {},
    },
    "machine-learning": {
        "lang": "en",
        "headlines": [
            "Pupils' learning improves",
            "Vending machines removed from schools",
        ],
        "sentences": [
            "Teachers say pupils' learning improved after class sizes were reduced.",
            "The council removed vending machines from schools to cut snacking.",
            "The washing machine model was recalled because of a faulty door seal.",
            "The apprentices described a steep learning curve in the machine shop.",
            "Lifelong learning courses for adults are free this autumn.",
            "The model railway club opened its exhibition in {place}.",
        ],
        "slots": {},
    },
    "public-health": {
        "lang": "en",
        "headlines": [
            "Club's financial health improves",
            "Economy gets a clean bill of health",
        ],
        "sentences": [
            "The club's financial health improved after the sale of its training "
            "ground.",
            "Analysts gave the economy a clean bill of health despite slow growth.",
            "The bank passed the regulator's health check with room to spare.",
            "The company reported healthy profits for the {small}th year in a row.",
            "A health check of the city's finances found a gap of {num} million.",
            "Investors welcomed the healthy order book.",
        ],
        "slots": {},
    },
}

TOPICS: dict[str, dict[str, Any]] = {
    "renewable-energy": _RENEWABLE,
    "football": _FOOTBALL,
    "machine-learning": _MACHINE_LEARNING,
    "public-health": _PUBLIC_HEALTH,
    "fossil-energy": _FOSSIL_ENERGY,
    "other-sports": _OTHER_SPORTS,
    "consumer-tech": _CONSUMER_TECH,
    "clinical-care": _CLINICAL_CARE,
    "off-topic-en": _OFF_TOPIC_EN,
    **{f"trap-{domain}": topic for domain, topic in _TRAPS.items()},
    **SWEDISH_TOPICS,
}

# The demo domains: (key, name, description, language).
DOMAINS: list[tuple[str, str, str, str]] = [
    (
        "renewable-energy",
        "Renewable energy",
        "Renewable energy: solar, wind, hydro and geothermal power, energy storage, "
        "and the grid connections and policies that bring clean electricity to homes "
        "and industry.",
        "en",
    ),
    (
        "football",
        "Football",
        "Football (soccer): matches and results, clubs and players, transfers, "
        "managers, leagues and cup competitions.",
        "en",
    ),
    (
        "machine-learning",
        "Machine learning research",
        "Machine learning research: new models and training methods, benchmarks and "
        "datasets, and findings that researchers report in papers and at conferences.",
        "en",
    ),
    (
        "public-health",
        "Public health",
        "Public health: preventing disease across whole populations, including "
        "vaccination, outbreaks, screening, lifestyle risks such as smoking and "
        "obesity, and health policy.",
        "en",
    ),
    (
        "skogsbruk",
        "Skogsbruk",
        "Skogsbruk: avverkning, plantering, gallring och annan skogsskötsel, "
        "virkesmarknaden och skogsindustrin samt skogens roll för klimatet och den "
        "biologiska mångfalden.",
        "sv",
    ),
    (
        "kollektivtrafik",
        "Kollektivtrafik",
        "Kollektivtrafik: bussar, pendeltåg, tunnelbana och spårvagnar, linjer och "
        "tidtabeller, biljetter och priser, förseningar och utbyggnad av trafiken.",
        "sv",
    ),
]

# Hard-negative neighbours of each domain, and the topics a borderline document
# of the domain may borrow its minority of sentences from.
NEIGHBOURS: dict[str, tuple[str, ...]] = {
    "renewable-energy": ("fossil-energy",),
    "football": ("other-sports",),
    "machine-learning": ("consumer-tech",),
    "public-health": ("clinical-care",),
    "skogsbruk": ("jordbruk", "naturvard"),
    "kollektivtrafik": ("bilism",),
}
MIXING_PARTNERS: dict[str, tuple[str, ...]] = {
    "renewable-energy": ("fossil-energy", "machine-learning"),
    "football": ("other-sports", "public-health"),
    "machine-learning": ("consumer-tech", "public-health", "renewable-energy"),
    "public-health": ("clinical-care", "machine-learning", "football"),
    "skogsbruk": ("jordbruk", "naturvard"),
    "kollektivtrafik": ("bilism",),
}
