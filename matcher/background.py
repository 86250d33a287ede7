"""Background corpus for the frozen IDF of the lexical signal (see `matcher.features`).

Generic wording of city innovation calls and company profiles in English, Finnish and Swedish, written
for this project: the words every call or profile uses whatever its topic ("the city invites companies
to pilot a solution", "yrityksemme tarjoaa palvelun", "vi erbjuder en tjänst"). Character n-grams that
occur in many of these texts get a low IDF; topic words, which occur in few or none, keep a high one.
Editing this list changes every lexical score, like changing a model: do it deliberately.
"""

BACKGROUND: tuple[str, ...] = (
    # English: calls
    "The city invites companies to propose and pilot a solution to this challenge together with city staff.",
    "We are looking for companies that can test their product or service in a real environment during the pilot period.",
    "The pilot will run for six months and its results will be evaluated together with the city and the users.",
    "The solution must comply with data protection rules and the city's information security requirements.",
    "Companies are invited to describe how their solution works, what it costs and how its impact can be measured.",
    "The city wants to learn whether the approach could be scaled up and procured later on.",
    "The challenge is part of the Six City Strategy and is open to startups, small and medium-sized companies.",
    "Proposals should explain the expected benefits for residents, the schedule and the resources needed.",
    "The pilot budget covers the costs of the trial; the city provides access to its facilities and staff.",
    "We want to find new ways to improve our services and to make everyday life easier for the people who use them.",
    "The results of the experiment will be published and shared with other cities.",
    "Responses to the call are due by the deadline; the selected company will sign a pilot agreement with the city.",
    # English: profiles
    "Our company provides a platform and services for public and private sector customers in the Nordic countries.",
    "We help organisations use data and digital tools to make better decisions and to save time and money.",
    "Founded in Finland, the company has a team of experienced experts and customers in several municipalities.",
    "Our solution is easy to deploy, integrates with existing systems and comes with training and support.",
    "We offer consulting, software development and long-term maintenance for our clients.",
    "The service is used by thousands of users every day and is available as a mobile app and on the web.",
    "We work in Finnish, Swedish and English and have delivered projects for cities and companies.",
    "Our mission is to build products that make a real difference for people and for the environment.",
    # Finnish: calls
    "Kaupunki kutsuu yrityksiä ehdottamaan ja kokeilemaan ratkaisua tähän haasteeseen yhdessä kaupungin henkilöstön kanssa.",
    "Etsimme yrityksiä, jotka voivat testata tuotettaan tai palveluaan todellisessa ympäristössä kokeilun aikana.",
    "Kokeilu kestää kuusi kuukautta, ja sen tulokset arvioidaan yhdessä kaupungin ja käyttäjien kanssa.",
    "Ratkaisun on noudatettava tietosuojaa koskevia sääntöjä ja kaupungin tietoturvavaatimuksia.",
    "Yrityksiä pyydetään kuvaamaan, miten ratkaisu toimii, mitä se maksaa ja miten sen vaikutuksia voidaan mitata.",
    "Kaupunki haluaa selvittää, voidaanko toimintamallia laajentaa ja hankkia myöhemmin.",
    "Haaste on osa kuutoskaupunkien strategiaa ja avoin kasvuyrityksille sekä pienille ja keskisuurille yrityksille.",
    "Ehdotuksessa tulee kertoa odotetut hyödyt asukkaille, aikataulu ja tarvittavat resurssit.",
    "Kokeilun tulokset julkaistaan ja niistä kerrotaan myös muille kaupungeille.",
    "Haluamme löytää uusia tapoja parantaa palveluitamme ja helpottaa niitä käyttävien ihmisten arkea.",
    # Finnish: profiles
    "Yrityksemme tarjoaa alustan ja palveluita julkisen ja yksityisen sektorin asiakkaille Pohjoismaissa.",
    "Autamme organisaatioita hyödyntämään tietoa ja digitaalisia työkaluja, jotta ne voivat tehdä parempia päätöksiä.",
    "Suomessa perustetussa yrityksessä työskentelee kokeneita asiantuntijoita, ja asiakkaitamme ovat useat kunnat.",
    "Ratkaisumme on helppo ottaa käyttöön, se liitetään olemassa oleviin järjestelmiin ja siihen sisältyy koulutus ja tuki.",
    "Palvelua käyttää päivittäin tuhansia käyttäjiä, ja se toimii mobiilisovelluksena ja verkossa.",
    "Toimimme suomeksi, ruotsiksi ja englanniksi ja olemme toteuttaneet hankkeita kaupungeille ja yrityksille.",
    # Swedish: calls
    "Staden bjuder in företag att föreslå och pröva en lösning på utmaningen tillsammans med stadens personal.",
    "Vi söker företag som kan testa sin produkt eller tjänst i en verklig miljö under pilotperioden.",
    "Piloten pågår i sex månader och resultaten utvärderas tillsammans med staden och användarna.",
    "Lösningen ska följa reglerna för dataskydd och stadens krav på informationssäkerhet.",
    "Företagen ombeds beskriva hur lösningen fungerar, vad den kostar och hur dess effekter kan mätas.",
    "Staden vill ta reda på om arbetssättet kan skalas upp och upphandlas senare.",
    "Vi vill hitta nya sätt att förbättra våra tjänster och göra vardagen enklare för de människor som använder dem.",
    # Swedish: profiles
    "Vårt företag erbjuder en plattform och tjänster för kunder inom offentlig och privat sektor i Norden.",
    "Vi hjälper organisationer att använda data och digitala verktyg för att fatta bättre beslut.",
    "Vår lösning är lätt att ta i bruk, kan kopplas till befintliga system och omfattar utbildning och support.",
    "Tjänsten används dagligen av tusentals användare och finns som mobilapp och på webben.",
    "Vi arbetar på finska, svenska och engelska och har genomfört projekt för städer och företag.",
)
