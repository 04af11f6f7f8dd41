"""Swedish templates of the heysh demo corpus, written for heysh.

Private to ``heysh.data.demo``; see ``heysh.data._demo_vocabulary`` for the
format. Everything is invented: the people, events and figures are
fictional, and no sentence is taken from a dataset.
"""

from __future__ import annotations

from typing import Any

GENERIC_SLOTS_SV: dict[str, list[str]] = {
    "place": [
        "Umeå",
        "Sundsvall",
        "Växjö",
        "Gävle",
        "Karlstad",
        "Östersund",
        "Luleå",
        "Jönköping",
        "Örebro",
        "Borås",
        "Falun",
        "Skellefteå",
        "Hudiksvall",
        "Norrköping",
        "Kalmar",
        "Ljusdal",
    ],
    "person": [
        "Anna Lindqvist",
        "Erik Berg",
        "Karin Johansson",
        "Lars Nyström",
        "Maria Karlsson",
        "Johan Holm",
        "Sara Ek",
        "Anders Sjöberg",
        "Elin Lund",
        "Per Öberg",
        "Lena Andersson",
        "Mikael Åkesson",
        "Fatima Hassan",
        "Ahmed Nilsson",
    ],
    "month": [
        "januari",
        "februari",
        "mars",
        "april",
        "maj",
        "juni",
        "juli",
        "augusti",
        "september",
        "oktober",
        "november",
        "december",
    ],
    "weekday": ["måndags", "tisdags", "onsdags", "torsdags", "fredags"],
    "region": [
        "Norrlands inland",
        "Bergslagen",
        "Västra Götaland",
        "Mälardalen",
        "Småland",
        "Jämtland",
    ],
    "period": ["vecka", "månad", "höst", "vår"],
}

FILLER_SV: list[str] = [
    "Beskedet kommer efter flera månaders samråd med de boende.",
    "Fler detaljer väntas presenteras senare i {period}.",
    "{person}, som har följt frågan länge, säger att beslutet var efterlängtat.",
    "Alla är inte övertygade.",
    "Siffrorna presenterades i {weekday} och ska följas upp igen i {month}.",
    "En talesperson vill inte kommentera tidsplanen.",
    "Liknande planer har diskuterats i {place} och {place}.",
    "Rapporten omfattar mer än {num} sidor och innehåller flera förslag.",
    "Oppositionen kräver en oberoende granskning av kostnaderna.",
    "Det är första gången ett sådant upplägg prövas i landet.",
    "Pengarna kommer dels från statsbudgeten, dels från privata investerare.",
    "Flera bedömare varnar för att kostnaderna kan stiga innan arbetet är klart.",
    "Mötet i {place} pågick större delen av eftermiddagen.",
    "Lokaltidningen har bevakat frågan sedan i {month}.",
    "De boende bjöds in till ett informationsmöte för att ställa frågor.",
    "Organisationen ska presentera en egen bedömning under våren.",
    "Enligt {person} håller tidsplanen, men den är pressad.",
    "Flera frågor är obesvarade, bland annat vem som ska stå för underhållet.",
    "Styrelsen träffas igen på {weekday} för att diskutera nästa steg.",
    "Tidigare försök i {region} har stött på juridiska hinder.",
]

_SKOGSBRUK: dict[str, Any] = {
    "lang": "sv",
    "headlines": [
        "Granbarkborren sprider sig i {region}",
        "Timmerpriset fortsätter uppåt",
        "Skogsägare satsar på hyggesfritt",
        "Rekordmånga avverkningsanmälningar i länet",
        "Sågverket i {place} ökar produktionen",
        "Nya plantor ska ersätta stormfälld skog",
    ],
    "sentences": [
        "Skogsbolaget planerar att avverka {num} hektar utanför {place} under vintern.",
        "Efter avverkningen ska marken planteras med gran och tall inom tre år.",
        "Priset på timmer har stigit med {pct} procent sedan i fjol, enligt "
        "virkesköparna.",
        "Skogsägarföreningen varnar för att granbarkborren kan orsaka stora skador "
        "efter den torra sommaren.",
        "Röjning och gallring är avgörande för att träden ska växa sig grova.",
        "Skogsstyrelsen har tagit emot {num} avverkningsanmälningar från privata "
        "{sk_agare}.",
        "Kritiker menar att kalhyggen hotar den biologiska mångfalden, medan branschen"
        " pekar på lämnade hänsynsytor.",
        "Massaveden körs till bruket i {place} där den blir papper och kartong.",
        "Hyggesfritt skogsbruk prövas på flera fastigheter för att gynna både "
        "virkesproduktion och friluftsliv.",
        "Skördaren körs i skift för att hinna före tjällossningen.",
        "Den nya skogsbruksplanen visar att tillväxten är högre än avverkningen i "
        "länet.",
        "Sågverket har ökat produktionen av sågade trävaror till byggindustrin.",
        "Skogen binder koldioxid, och frågan om hur mycket som ska avverkas är central"
        " i klimatdebatten.",
        "Plantorna skyddas mot viltbete med stängsel och luktmedel.",
        "{sk_agare_cap} i {region} får rådgivning om hur de kan sköta sin skog för "
        "ökad tillväxt.",
        "Stormen fällde uppskattningsvis {num} tusen kubikmeter skog som nu måste tas "
        "om hand snabbt.",
        "Virket från gallringen säljs som bioenergi till värmeverket.",
        "Forskare har jämfört tillväxten hos förädlade granplantor med vanliga "
        "plantor.",
        "{person}, som äger {num} hektar produktiv skogsmark, säger att lönsamheten "
        "aldrig har varit bättre.",
        "Markberedningen görs för att plantorna ska få bättre fäste och mindre "
        "konkurrens.",
        "Nyckelbiotoper undantas från avverkning enligt certifieringen.",
        "Efterfrågan på limträ och korslimmat trä driver upp priserna på sågtimmer.",
    ],
    "slots": {
        "sk_agare": ["skogsägare", "markägare", "skogsfastighetsägare"],
        "sk_agare_cap": ["Skogsägare", "Privata markägare", "Skogsfastighetsägare"],
    },
}

_KOLLEKTIVTRAFIK: dict[str, Any] = {
    "lang": "sv",
    "headlines": [
        "Busslinje {small} förlängs till nya området",
        "Tätare pendeltåg från december",
        "Månadskortet blir dyrare",
        "Spårvägen försenas igen",
        "Elbussar tar över stadstrafiken i {place}",
        "Resenärer rasar mot inställda avgångar",
    ],
    "sentences": [
        "Regionen förlänger busslinje {small} till det nya bostadsområdet i {place}.",
        "Från december går pendeltågen var tionde minut i rusningstid.",
        "Priset för ett månadskort höjs med {num} kronor vid årsskiftet.",
        "Resenärerna klagar på inställda avgångar och överfulla vagnar.",
        "Spårvägsutbyggnaden beräknas bli klar {year}, två år senare än planerat.",
        "{kt_org} upphandlar {num} nya elbussar som ska rulla i stadstrafiken.",
        "Tunnelbanans signalsystem byts ut, vilket ska ge kortare intervall mellan "
        "tågen.",
        "Andelen resor med buss, tåg och spårvagn ska fördubblas enligt den regionala "
        "trafikplanen.",
        "Förseningarna beror på spårarbeten mellan {place} och {place}.",
        "Appen visar nu i realtid var bussen befinner sig och hur full den är.",
        "Pensionärer åker gratis utanför rusningstid i flera kommuner.",
        "Pendlarna får ersättning enligt förseningsgarantin om tåget är mer än tjugo "
        "minuter sent.",
        "Anropsstyrd trafik ska ersätta glesa landsbygdslinjer som ofta går nästan "
        "tomma.",
        "Vid hållplatsen byggs väderskydd och skyltar som visar avgångstiderna.",
        "{kt_org} räknar med {num} tusen fler påstigande per dag när den nya linjen "
        "öppnar.",
        "Busschaufförerna har länge larmat om hot och våld ombord.",
        "Regionbussarna får egna körfält på infartslederna för att hålla tidtabellen.",
        "Biljettsystemet byts ut så att resenärerna kan betala med kort direkt vid "
        "påstigning.",
        "{person}, som pendlar varje dag, säger att tågen har blivit mer pålitliga.",
        "Nattrafiken utökas under helgerna med tätare avgångar från centrum.",
        "Skolungdomar får ett sommarlovskort som gäller på alla linjer i länet.",
        "Den nya bytespunkten gör det enklare att byta mellan regionbuss och tåg.",
    ],
    "slots": {
        "kt_org": [
            "Regionens trafikbolag",
            "Kollektivtrafikmyndigheten",
            "Länstrafiken",
            "Trafikförvaltningen",
        ],
    },
}

_JORDBRUK: dict[str, Any] = {
    "lang": "sv",
    "headlines": [
        "Torkan slår mot skörden",
        "Mjölkpriset pressar bönderna",
        "Ny gård satsar på ekologiskt",
    ],
    "sentences": [
        "Lantbrukaren sådde vete och korn på {num} hektar i våras.",
        "Torkan gör att skörden väntas bli {pct} procent mindre än normalt.",
        "Mjölkpriset har sjunkit, och flera gårdar i {region} överväger att sluta.",
        "Betesmarkerna hålls öppna av köttdjur som går ute hela sommaren.",
        "Gården har ställt om till ekologisk odling av potatis och grönsaker.",
        "Spannmålspriserna påverkas av världsmarknaden och vädret i andra länder.",
        "Bonden säljer en del av marken som tomter till kommunen.",
        "Vildsvinen har förstört stora delar av havreåkern utanför {place}.",
        "Jordbruksverket betalar ut stöd till lantbrukare som drabbats av torkan.",
    ],
    "slots": {},
}

_NATURVARD: dict[str, Any] = {
    "lang": "sv",
    "headlines": [
        "Nytt naturreservat bildas",
        "Vandringsleden genom skogen rustas upp",
        "Sällsynt lav hittad i gammelskog",
    ],
    "sentences": [
        "Länsstyrelsen bildar ett nytt naturreservat i den gamla skogen norr om "
        "{place}.",
        "Vandringsleden genom skogen rustas upp med nya spänger och rastplatser.",
        "Naturvårdare har hittat en sällsynt lav på gamla granar i området.",
        "Allemansrätten ger alla rätt att plocka bär och svamp i skogen.",
        "Friluftsfrämjandet ordnar skogsmulle-grupper för barn varje helg.",
        "Vargflocken i reviret har ökat, och jägarna vill ha skyddsjakt.",
        "Fågelskådare samlades vid sjön för att se tranorna dansa.",
        "Naturskyddsföreningen vill att mer skog ska skyddas permanent.",
        "Besökarna uppmanas att inte elda i skogen under torkan.",
    ],
    "slots": {},
}

_BILISM: dict[str, Any] = {
    "lang": "sv",
    "headlines": [
        "Ny motorväg försenas",
        "Bensinpriset slår rekord",
        "Bilköerna växer på infarterna",
    ],
    "sentences": [
        "Trafikverket bygger om riksvägen mellan {place} och {place} till mötesfri "
        "väg.",
        "Bensinpriset har passerat {small}0 kronor litern för första gången.",
        "Bilköerna på infarterna växer när fler pendlar med egen bil.",
        "Parkeringsavgifterna i centrum höjs från och med {month}.",
        "Bilisterna uppmanas att byta till vinterdäck före den första snön.",
        "Hastighetskameror sätts upp på den olycksdrabbade vägsträckan.",
        "Försäljningen av elbilar ökade med {pct} procent i år.",
        "Den nya förbifarten ska leda bort den tunga trafiken från centrum.",
        "Flygbolaget startar en ny direktlinje från {place} till Stockholm.",
    ],
    "slots": {},
}

_OFF_TOPIC_SV: dict[str, Any] = {
    "lang": "sv",
    "headlines": [
        "Bostadspriserna stiger",
        "Ny restaurang i hamnen",
        "Biblioteket får längre öppettider",
        "Teatern firar jubileum",
    ],
    "sentences": [
        "Bostadspriserna i {place} har stigit med {pct} procent på ett år.",
        "Den nya restaurangen i hamnen serverar fisk från lokala fiskare.",
        "Biblioteket får längre öppettider efter beslut i kommunfullmäktige.",
        "Teatern firar femtio år med en nyskriven pjäs.",
        "Skolan bygger ut matsalen för att alla elever ska få plats.",
        "Konstnären ställer ut målningar inspirerade av kusten.",
        "Hyrorna för små lägenheter har ökat snabbare än lönerna.",
        "Körens julkonsert i kyrkan var utsåld på några timmar.",
        "Föreningen ordnar loppis på torget varje lördag.",
        "Bageriet i {place} har vunnit pris för sitt surdegsbröd.",
    ],
    "slots": {},
}

TRAPS_SV: dict[str, dict[str, Any]] = {
    "skogsbruk": {
        "lang": "sv",
        "headlines": ["Festival i skogsbrynet", "Skogsrået på scen"],
        "sentences": [
            "Festivalen i skogsbrynet lockade {num} besökare trots regnet.",
            "Teatern sätter upp en pjäs om ett skogsrå som förtrollar en vandrare.",
            "Barnen sjöng om tomtar och troll i en skog av ljus.",
            "Konstnären har byggt en skulptur av gamla träsnören och plåt.",
            "Det blev en skog av händer när publiken fick ställa frågor.",
            "Julgransförsäljningen på torget öppnar första advent.",
        ],
        "slots": {},
    },
    "kollektivtrafik": {
        "lang": "sv",
        "headlines": ["Nytt kollektivavtal klart", "Luciatåget drog fullt hus"],
        "sentences": [
            "Facket och arbetsgivarna har kommit överens om ett nytt kollektivavtal.",
            "Luciatåget gick genom äldreboendet och sjöng för de boende.",
            "Kollektivet av konstnärer flyttar in i den gamla fabriken.",
            "Låten ligger etta på listorna och har gått som ett tåg hela sommaren.",
            "Förhandlingarna om kollektivavtalet för lärarna har strandat.",
            "Bussen med rockbandet anlände sent till konserten i {place}.",
        ],
        "slots": {},
    },
}

SWEDISH_TOPICS: dict[str, dict[str, Any]] = {
    "skogsbruk": _SKOGSBRUK,
    "kollektivtrafik": _KOLLEKTIVTRAFIK,
    "jordbruk": _JORDBRUK,
    "naturvard": _NATURVARD,
    "bilism": _BILISM,
    "off-topic-sv": _OFF_TOPIC_SV,
    **{f"trap-{domain}": topic for domain, topic in TRAPS_SV.items()},
}
