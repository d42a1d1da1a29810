/*
 * gen.c: synthetic registration records with known truth; see gen.h.
 *
 * Names are common Arab names with their usual Latin spellings. Families
 * have several children (siblings share father, grandfather, family name,
 * mother and birth place), some have twins (the same birth date too), and
 * some have cousin families (same grandfather and family name). Every child
 * is registered one or more times, each time with the variations of the
 * profile.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/xalloc.h"
#include "core/banned.h"
#include "match/gen.h"

/* A name in Arabic and its Latin spellings separated by '|'. */
struct gname {
    const char *ar;  /* Arabic, UTF-8 */
    const char *lat; /* Latin spellings */
};

/* Boys' and men's names, most common first (picked with Zipf-like weights: محمد, أحمد and علي
 * are frequent, most names rare), across the Levant, Iraq, the Gulf, Yemen, Egypt and the
 * Maghreb, with their usual Latin spellings. */
static const struct gname male[] = {
    {"محمد", "Mohammed|Muhammad|Mohamed|Mohammad"}, {"أحمد", "Ahmed|Ahmad"}, {"علي", "Ali"},
    {"عبد الله", "Abdullah|Abdallah|Abd Allah"}, {"محمود", "Mahmoud|Mahmud"},
    {"حسن", "Hassan|Hasan"}, {"حسين", "Hussein|Hussain|Husein"}, {"عمر", "Omar|Umar"},
    {"خالد", "Khaled|Khalid"}, {"يوسف", "Youssef|Yousef|Yusuf"}, {"إبراهيم", "Ibrahim|Ebrahim"},
    {"مصطفى", "Mustafa|Moustafa|Mostafa"},
    {"عبد الرحمن", "Abdulrahman|Abdelrahman|Abd al-Rahman|Abdul Rahman"}, {"سعيد", "Saeed|Said"},
    {"عبد العزيز", "Abdulaziz|Abdelaziz|Abd al-Aziz"}, {"حمزة", "Hamza|Hamzah"},
    {"يحيى", "Yahya|Yehia"}, {"عبد القادر", "Abdelkader|Abdulqader|Abd al-Qadir"},
    {"صالح", "Saleh|Salih"}, {"سعد", "Saad"}, {"ياسر", "Yasser|Yasir"},
    {"طارق", "Tariq|Tarek|Tareq"}, {"زياد", "Ziad|Ziyad|Zeyad"}, {"وليد", "Walid|Waleed"},
    {"فيصل", "Faisal|Faysal"}, {"جمال", "Jamal|Gamal"}, {"عادل", "Adel|Adil"},
    {"سامي", "Sami|Samy"}, {"كريم", "Karim|Kareem"}, {"ماجد", "Majed|Majid"},
    {"هشام", "Hisham|Hesham"}, {"عماد", "Imad|Emad"}, {"أنس", "Anas"}, {"أيمن", "Ayman|Aymen"},
    {"بلال", "Bilal|Belal"}, {"عثمان", "Othman|Osman"}, {"موسى", "Musa|Moussa"},
    {"عيسى", "Issa|Eisa"}, {"سليمان", "Suleiman|Sulaiman"}, {"منصور", "Mansour|Mansur"},
    {"راشد", "Rashed|Rashid"}, {"عبد الكريم", "Abdulkarim|Abdelkarim|Abd al-Karim"},
    {"عبد الرزاق", "Abdulrazzaq|Abderrazak|Abd al-Razzaq"},
    {"عبد الحميد", "Abdulhamid|Abdelhamid"}, {"عبد المجيد", "Abdulmajid|Abdelmajid"},
    {"عبد الرحيم", "Abdulrahim|Abderrahim"}, {"عبد السلام", "Abdulsalam|Abdessalam"},
    {"عبد الناصر", "Abdulnasser|Abdel Nasser"}, {"عبد الهادي", "Abdulhadi|Abdelhadi"},
    {"عبد اللطيف", "Abdullatif|Abdellatif"}, {"عبد الوهاب", "Abdulwahab|Abdelwahab"},
    {"عبد الغني", "Abdulghani|Abdelghani"}, {"عبد الحليم", "Abdulhalim|Abdelhalim"},
    {"عبد الفتاح", "Abdulfattah|Abdelfattah"}, {"عبد الباسط", "Abdulbasit|Abdelbasset"},
    {"عبد الإله", "Abdulilah|Abdelilah"}, {"عبد المنعم", "Abdulmunim|Abdelmonem"},
    {"أبو بكر", "Abubakar|Abu Bakr|Aboubakr"}, {"ياسين", "Yassin|Yasin|Yacine"},
    {"إسماعيل", "Ismail|Ismael"}, {"إسحاق", "Ishaq|Ishak"}, {"يعقوب", "Yaqoub|Yacoub|Yakub"},
    {"زكريا", "Zakaria|Zakariya"}, {"إلياس", "Elias|Ilyas"}, {"إدريس", "Idris|Driss"},
    {"هارون", "Haroun|Harun"}, {"داود", "Dawood|Daoud|Dawud"}, {"سلمان", "Salman"},
    {"لقمان", "Luqman|Loqman"}, {"نوح", "Nouh|Nuh"}, {"آدم", "Adam"}, {"جعفر", "Jaafar|Jafar"},
    {"قاسم", "Qasim|Kassem|Kasim"}, {"معاذ", "Muadh|Moaz|Muaz"}, {"نزار", "Nizar|Nezar"},
    {"رائد", "Raed"}, {"سليم", "Salim|Saleem"}, {"شادي", "Shadi|Shady"}, {"طه", "Taha"},
    {"عصام", "Issam|Essam"}, {"فراس", "Firas|Feras"}, {"مازن", "Mazen|Mazin"},
    {"مراد", "Murad|Mourad"}, {"مهدي", "Mahdi|Mehdi"}, {"هيثم", "Haitham|Haytham"},
    {"نور الدين", "Nour al-Din|Noureddine|Nour Eddine"},
    {"صلاح الدين", "Salah al-Din|Salaheddine|Salah Eddine"},
    {"عز الدين", "Ezz al-Din|Izzeddine|Azzedine"}, {"بدر الدين", "Badr al-Din|Badreddine"},
    {"خير الدين", "Khair al-Din|Kheireddine"}, {"علاء الدين", "Alaa al-Din|Alaeddine"},
    {"ثامر", "Thamer|Thamir"}, {"غسان", "Ghassan"}, {"خليل", "Khalil|Khaleel"},
    {"باسل", "Basel|Basil"}, {"أسامة", "Osama|Usama"}, {"تامر", "Tamer|Tamir"},
    {"رياض", "Riad|Riyad"}, {"لؤي", "Luay|Louay"}, {"مؤمن", "Moamen|Mumin"},
    {"قصي", "Qusai|Qusay"}, {"عمار", "Ammar"}, {"منير", "Munir|Mounir"}, {"هادي", "Hadi|Hady"},
    {"وائل", "Wael|Wa'il"}, {"فادي", "Fadi|Fady"}, {"رامي", "Rami|Ramy"}, {"سامر", "Samer"},
    {"سمير", "Samir|Sameer"}, {"نبيل", "Nabil|Nabeel"}, {"ماهر", "Maher|Mahir"},
    {"هاني", "Hani|Hany"}, {"إياد", "Iyad|Eyad"}, {"حازم", "Hazem|Hazim"},
    {"حسام", "Hussam|Hossam"}, {"أمين", "Amin|Ameen"}, {"أمجد", "Amjad"}, {"أكرم", "Akram"},
    {"أشرف", "Ashraf"}, {"أسعد", "Asaad|As'ad"}, {"أنور", "Anwar"}, {"أيوب", "Ayoub|Ayyub"},
    {"بشير", "Bashir|Basheer"}, {"بكر", "Bakr|Bakir"}, {"تميم", "Tamim|Tameem"},
    {"ثابت", "Thabet|Thabit"}, {"جابر", "Jaber|Jabir"}, {"جاسم", "Jassim|Jasem"},
    {"جلال", "Jalal"}, {"جهاد", "Jihad"}, {"جواد", "Jawad"}, {"حاتم", "Hatem|Hatim"},
    {"حامد", "Hamed|Hamid"}, {"حمد", "Hamad"}, {"حمدي", "Hamdi|Hamdy"}, {"حيدر", "Haidar|Haider"},
    {"خليفة", "Khalifa|Khalifah"}, {"خضر", "Khader|Khidr"}, {"رأفت", "Raafat|Rafat"},
    {"رشيد", "Rachid|Rasheed"}, {"رضا", "Reda|Rida"}, {"رمضان", "Ramadan|Ramazan"},
    {"زكي", "Zaki|Zaky"}, {"زهير", "Zuhair|Zouhair"}, {"زيد", "Zaid|Zeid"},
    {"سالم", "Salem|Salim"}, {"سفيان", "Sufyan|Soufiane"}, {"سلطان", "Sultan"},
    {"سهيل", "Suhail|Souhail"}, {"شريف", "Sharif|Cherif"}, {"شكري", "Shukri|Choukri"},
    {"صابر", "Saber|Sabir"}, {"صبري", "Sabri|Sabry"}, {"صفوان", "Safwan"}, {"صقر", "Saqr|Saker"},
    {"ضياء", "Diaa|Dhiya"}, {"طلال", "Talal"}, {"ظافر", "Dhafer|Zafer"}, {"عاطف", "Atef|Atif"},
    {"عامر", "Amer|Amir"}, {"عبدو", "Abdo|Abdou"}, {"عدنان", "Adnan"}, {"عرفات", "Arafat"},
    {"عزيز", "Aziz"}, {"عطا", "Atta|Ata"}, {"علاء", "Alaa|Ala"},
    {"عماد الدين", "Imad al-Din|Imadeddine"}, {"عوض", "Awad|Aouad"}, {"عيد", "Eid|Aid"},
    {"غازي", "Ghazi"}, {"غيث", "Ghaith|Ghayth"}, {"فؤاد", "Fouad|Fuad"}, {"فارس", "Fares|Faris"},
    {"فاروق", "Farouk|Faruq"}, {"فتحي", "Fathi|Fathy"}, {"فرج", "Faraj|Farag"},
    {"فهد", "Fahad|Fahd"}, {"فواز", "Fawaz"}, {"قيس", "Qais|Kais"}, {"كمال", "Kamal"},
    {"لطفي", "Lotfi|Lutfi"}, {"ليث", "Laith|Layth"}, {"مالك", "Malek|Malik"},
    {"مأمون", "Mamoun|Ma'mun"}, {"متولي", "Metwally|Mitwalli"}, {"مجدي", "Magdy|Majdi"},
    {"محسن", "Mohsen|Muhsin"}, {"مختار", "Mokhtar|Mukhtar"}, {"مدحت", "Medhat|Midhat"},
    {"مرتضى", "Murtada|Mortada"}, {"مروان", "Marwan"}, {"مسعود", "Masoud|Massoud"},
    {"مشعل", "Mishal|Meshaal"}, {"معتز", "Moataz|Mutaz"}, {"مقداد", "Miqdad|Meqdad"},
    {"ممدوح", "Mamdouh|Mamduh"}, {"مناف", "Manaf"}, {"مهند", "Muhannad|Mohannad"},
    {"ناصر", "Nasser|Naser"}, {"نادر", "Nader|Nadir"}, {"ناجي", "Naji|Nagy"},
    {"نايف", "Nayef|Naif"}, {"نجيب", "Najib|Naguib"}, {"نصر", "Nasr|Nasser"},
    {"نعيم", "Naim|Naeem"}, {"نواف", "Nawaf"}, {"هلال", "Hilal|Helal"}, {"همام", "Hammam|Humam"},
    {"وسيم", "Wasim|Waseem"}, {"وحيد", "Wahid|Waheed"}, {"وجدي", "Wajdi|Wagdy"}, {"يزن", "Yazan"},
    {"يونس", "Younes|Yunus|Younis"}, {"يامن", "Yamen|Yamin"}, {"أوس", "Aws|Aous"},
    {"براء", "Baraa|Bara"}, {"بهاء", "Bahaa|Baha"}, {"تيسير", "Taysir|Tayseer"},
    {"جميل", "Jamil|Gamil"}, {"حبيب", "Habib|Habeeb"}, {"حكيم", "Hakim|Hakeem"},
    {"خلدون", "Khaldoun|Khaldun"}, {"رعد", "Raad|Ra'ad"}, {"ريان", "Rayan|Ryan"},
    {"زاهر", "Zaher|Zahir"}, {"سراج", "Siraj|Seraj"}, {"سيف", "Saif|Seif"},
    {"شاكر", "Shaker|Shakir"}, {"شهاب", "Shihab|Chehab"}, {"صدام", "Saddam"},
    {"طاهر", "Taher|Tahir"}, {"عبادة", "Ubada|Obada"}, {"عزام", "Azzam"}, {"علوان", "Alwan"},
    {"عمران", "Imran|Omran"}, {"غانم", "Ghanem|Ghanim"}, {"فاضل", "Fadel|Fadil"},
    {"فريد", "Farid|Fareed"}, {"كاظم", "Kadhim|Kazem"}, {"كنان", "Kenan|Kinan"},
    {"مجد", "Majd|Magd"}, {"محيي الدين", "Muhyi al-Din|Mohieddine"}, {"مصعب", "Musab|Mosaab"},
    {"منذر", "Munther|Mondher"}, {"مهيب", "Muhib|Mohib"}, {"موفق", "Muwaffaq|Mouafak"},
    {"ميسرة", "Maysara|Maisara"}, {"نضال", "Nidal|Nedal"}, {"نوفل", "Nawfal|Noufal"},
    {"هاشم", "Hashem|Hashim"}, {"واصف", "Wasef|Wassef"}, {"وضاح", "Waddah"}, {"أدهم", "Adham"},
    {"أسد", "Asad|Assad"}, {"إحسان", "Ihsan|Ehsan"}, {"إسلام", "Islam"}, {"إمام", "Imam"},
    {"باهر", "Baher"}, {"بدر", "Badr|Bader"}, {"بسام", "Bassam"}, {"بهجت", "Bahjat|Bahgat"},
    {"توفيق", "Tawfiq|Toufik"}, {"جبريل", "Jibril|Gebril"}, {"جودت", "Jawdat|Gawdat"},
    {"حافظ", "Hafez|Hafiz"}, {"حمدان", "Hamdan"}, {"حميد", "Hamid|Humaid"},
    {"خميس", "Khamis|Khamees"}, {"دريد", "Duraid|Doraid"}, {"ربيع", "Rabie|Rabih"},
    {"رجب", "Rajab|Ragab"}, {"رزق", "Rizk|Rizq"}, {"رفيق", "Rafiq|Rafik"},
    {"رضوان", "Radwan|Redouane"}, {"زين العابدين", "Zain al-Abidin|Zine El Abidine"},
    {"سعود", "Saud|Saoud"}, {"سيد", "Sayed|Sayyid"}, {"شعبان", "Shaaban|Chaabane"},
    {"شوقي", "Shawqi|Chawki"}, {"صادق", "Sadek|Sadiq"}, {"صلاح", "Salah"}, {"عابد", "Abed|Abid"},
    {"عارف", "Aref|Arif"}, {"عاصم", "Asem|Asim"}, {"عبد الجبار", "Abduljabbar|Abdeljabbar"},
    {"عبد الستار", "Abdulsattar|Abdessattar"}, {"عبد المطلب", "Abdulmuttalib|Abdelmottaleb"},
    {"عبد الصمد", "Abdulsamad|Abdessamad"}, {"عبد الحكيم", "Abdulhakim|Abdelhakim"},
    {"عبد الخالق", "Abdulkhaliq|Abdelkhalek"}, {"عبد الودود", "Abdulwadud|Abdelwadoud"},
    {"عبد الرؤوف", "Abdulraouf|Abderraouf"}, {"عبد النور", "Abdulnour|Abdennour"},
    {"عبد الملك", "Abdulmalik|Abdelmalek"}, {"عبد الحق", "Abdulhaq|Abdelhak"},
    {"عبد الواحد", "Abdulwahid|Abdelwahed"}, {"عزت", "Izzat|Ezzat"}, {"عقيل", "Aqil|Akeel"},
    {"عمرو", "Amr|Amro"}, {"عوني", "Awni|Aouni"}, {"غالب", "Ghaleb|Ghalib"},
    {"فايز", "Fayez|Faiz"}, {"فتح الله", "Fathallah|Fatah Allah"}, {"فخري", "Fakhri|Fakhry"},
    {"فهمي", "Fahmi|Fahmy"}, {"كامل", "Kamel|Kamil"}, {"لبيب", "Labib|Labeeb"},
    {"مبارك", "Mubarak|Moubarak"}, {"محفوظ", "Mahfouz|Mahfuz"}, {"مرعي", "Marei|Mar'i"},
    {"مسلم", "Muslim|Moslem"}, {"مشهور", "Mashhour|Mashhur"}, {"مصلح", "Musleh|Mosleh"},
    {"معروف", "Maarouf|Ma'ruf"}, {"منتصر", "Muntasir|Montasser"}, {"نبهان", "Nabhan"},
    {"نجم", "Najm|Nejm"}, {"نعمان", "Nouman|Numan"}, {"هيمن", "Haiman|Hemin"},
    {"وديع", "Wadih|Wadie"}, {"وهيب", "Wahib|Waheeb"}, {"يمان", "Yaman"},
};

/* Girls' and women's names, most common first. */
static const struct gname female[] = {
    {"فاطمة", "Fatima|Fatma|Fatimah"}, {"مريم", "Maryam|Mariam"}, {"عائشة", "Aisha|Aicha|Ayesha"},
    {"زينب", "Zainab|Zeinab"}, {"خديجة", "Khadija|Khadijah"}, {"نور", "Nour|Noor"},
    {"سارة", "Sara|Sarah"}, {"آمنة", "Amina|Amna"}, {"هدى", "Huda|Hoda"},
    {"ليلى", "Layla|Leila|Laila"}, {"رقية", "Ruqaya|Roqaya"}, {"أسماء", "Asmaa|Asma"},
    {"حليمة", "Halima|Halimah"}, {"سلمى", "Salma|Selma"}, {"جنى", "Jana"}, {"ملك", "Malak"},
    {"رحمة", "Rahma|Rahmah"}, {"هبة", "Hiba|Heba"}, {"إيمان", "Iman|Eman"}, {"منى", "Mona|Muna"},
    {"رنا", "Rana"}, {"ريم", "Reem|Rim"}, {"دعاء", "Doaa|Duaa"}, {"آلاء", "Alaa"},
    {"إسراء", "Israa|Esraa"}, {"شيماء", "Shaimaa|Shaima"}, {"بشرى", "Bushra|Boushra"},
    {"لجين", "Lujain|Lojain"}, {"سناء", "Sanaa|Sana"}, {"رغد", "Raghad"},
    {"ياسمين", "Yasmin|Yasmine"}, {"أمل", "Amal"}, {"سعاد", "Souad|Suad"}, {"حنان", "Hanan"},
    {"حنين", "Haneen|Hanin"}, {"غدير", "Ghadeer|Ghadir"}, {"تالا", "Tala"}, {"رزان", "Razan"},
    {"سجى", "Saja"}, {"بتول", "Batoul|Batool"}, {"نادين", "Nadine|Nadeen"}, {"لمى", "Lama"},
    {"دينا", "Dina|Deena"}, {"هالة", "Hala"}, {"عبير", "Abeer|Abir"}, {"وفاء", "Wafaa|Wafa"},
    {"نهى", "Noha|Nuha"}, {"سمر", "Samar"}, {"ميار", "Mayar"}, {"جود", "Joud"}, {"بيان", "Bayan"},
    {"ولاء", "Walaa"}, {"صفاء", "Safaa|Safa"}, {"ندى", "Nada"}, {"مروة", "Marwa|Marwah"},
    {"أميرة", "Amira|Ameera"}, {"هاجر", "Hajar|Hagar"}, {"زهراء", "Zahraa|Zahra"},
    {"رهف", "Rahaf"}, {"نورة", "Noura|Nora"}, {"لطيفة", "Latifa|Latefa"},
    {"جميلة", "Jamila|Gamila"}, {"سميرة", "Samira|Sameera"}, {"نعيمة", "Naima|Naeema"},
    {"كريمة", "Karima|Karima"}, {"سعيدة", "Saida|Saeeda"}, {"حياة", "Hayat"},
    {"نجلاء", "Najlaa|Naglaa"}, {"رشا", "Rasha"}, {"ريما", "Rima|Reema"}, {"لينا", "Lina|Leena"},
    {"دانة", "Dana"}, {"جنان", "Jinan|Jenan"}, {"إسلام", "Islam"}, {"آية", "Aya|Ayah"},
    {"تسنيم", "Tasnim|Tasneem"}, {"رؤى", "Ruaa|Roua"}, {"شهد", "Shahad"}, {"غادة", "Ghada"},
    {"لبنى", "Lubna|Loubna"}, {"ماجدة", "Majida|Magda"}, {"نسرين", "Nisreen|Nesrine"},
    {"نوال", "Nawal"}, {"هند", "Hind"}, {"وداد", "Widad|Wedad"}, {"يسرى", "Yusra|Yousra"},
    {"أريج", "Areej|Arij"}, {"إكرام", "Ikram|Ekram"}, {"بسمة", "Basma|Bassma"},
    {"تغريد", "Taghrid|Taghreed"}, {"جمانة", "Jumana|Joumana"}, {"حسناء", "Hasnaa|Hasna"},
    {"حورية", "Houria|Hooriya"}, {"خلود", "Kholoud|Khulud"}, {"دلال", "Dalal"},
    {"رانيا", "Rania|Ranya"}, {"ربى", "Ruba|Roba"}, {"رجاء", "Rajaa|Raja"},
    {"رحاب", "Rehab|Rihab"}, {"روان", "Rawan"}, {"رولا", "Rola|Rula"}, {"ريهام", "Riham|Reham"},
    {"زهرة", "Zahra|Zohra"}, {"سحر", "Sahar"}, {"سلوى", "Salwa"}, {"سهام", "Siham|Seham"},
    {"سوسن", "Sawsan|Sousan"}, {"شروق", "Shorouk|Shurooq"}, {"صابرين", "Sabrine|Sabreen"},
    {"ضحى", "Doha|Duha"}, {"عزة", "Azza|Izza"}, {"علياء", "Alyaa|Aliaa"}, {"عفاف", "Afaf"},
    {"غزل", "Ghazal"}, {"فرح", "Farah"}, {"فدوى", "Fadwa|Fadoua"}, {"كوثر", "Kawthar|Kaoutar"},
    {"لارا", "Lara"}, {"ليان", "Layan|Lian"}, {"مها", "Maha"}, {"منار", "Manar"},
    {"ميساء", "Maysaa|Maisa"}, {"نجوى", "Najwa|Nagwa"}, {"نسيبة", "Nusaiba|Nousseiba"},
    {"نهاد", "Nihad|Nehad"}, {"هيفاء", "Haifa|Haifaa"}, {"وعد", "Waad|Wa'ad"}, {"يارا", "Yara"},
    {"أروى", "Arwa"}, {"إلهام", "Ilham|Elham"}, {"أنوار", "Anwar"},
    {"بثينة", "Buthaina|Bouthaina"}, {"تقوى", "Taqwa"}, {"ثريا", "Thuraya|Soraya"},
    {"جيهان", "Jihan|Gihan"}, {"حلا", "Hala|Hila"}, {"حفصة", "Hafsa|Hafsah"},
    {"خولة", "Khawla|Khaoula"}, {"رباب", "Rabab"}, {"رفيف", "Rafif|Rafeef"},
    {"روضة", "Rawda|Rawdha"}, {"ريتاج", "Ritaj"}, {"زينة", "Zeina|Zina"},
    {"سلسبيل", "Salsabil|Salsabeel"}, {"سهى", "Suha|Soha"}, {"شذى", "Shatha|Shaza"},
    {"صبا", "Saba"}, {"عبلة", "Abla"}, {"عهد", "Ahd"}, {"غنى", "Ghina|Ghena"},
    {"فريدة", "Farida|Fareeda"}, {"فيروز", "Fairouz|Fayrouz"}, {"لمياء", "Lamia|Lamyaa"},
    {"ماريا", "Maria"}, {"مرام", "Maram"}, {"مسك", "Misk"}, {"منيرة", "Munira|Mounira"},
    {"ميرا", "Mira"}, {"نادية", "Nadia|Nadya"}, {"نبيلة", "Nabila|Nabeela"},
    {"نرجس", "Narjis|Narges"}, {"هنادي", "Hanadi|Hanady"}, {"وئام", "Wiam|Weam"},
    {"يمنى", "Yumna|Youmna"}, {"أسيل", "Aseel|Asil"}, {"إنعام", "Inaam|Enaam"},
    {"بلقيس", "Balqis|Belkis"}, {"بهية", "Bahia|Bahiya"}, {"تهاني", "Tahani"},
    {"جوري", "Joury|Jouri"}, {"حميدة", "Hamida|Hameeda"}, {"خيرية", "Khairiya|Khairia"},
    {"دنيا", "Dunya|Donia"}, {"ذكرى", "Dhikra|Zikra"}, {"راما", "Rama"},
    {"رزيقة", "Raziqa|Rezika"}, {"رغدة", "Raghda"}, {"روعة", "Rawaa|Rowaa"},
    {"زكية", "Zakia|Zakiya"}, {"سارا", "Sarah|Sara"}, {"سكينة", "Sukaina|Sakina"},
    {"سمية", "Sumaya|Soumaya"}, {"شيرين", "Shirin|Sherine"}, {"صفية", "Safia|Safiya"},
    {"عالية", "Alia|Aliya"}, {"عفراء", "Afraa"}, {"فاتن", "Faten|Fatin"}, {"فايزة", "Faiza|Fayza"},
    {"قمر", "Qamar|Kamar"}, {"لولوة", "Lulwa|Loulwa"}, {"مديحة", "Madiha|Madeeha"},
    {"مفيدة", "Mufida|Moufida"}, {"ناريمان", "Nariman"}, {"نوارة", "Nawara"},
    {"هيام", "Hiyam|Hayam"}, {"وسام", "Wisam|Wissam"}, {"يقين", "Yaqeen|Yakin"},
    {"أسمهان", "Asmahan"}, {"آسيا", "Asia|Assia"}, {"أمينة", "Amina|Ameena"},
    {"انتصار", "Intisar|Entessar"}, {"بدرية", "Badriya|Badria"}, {"بشائر", "Bashaer|Bashair"},
    {"تماضر", "Tumadir|Tamader"}, {"جليلة", "Jalila|Galila"}, {"حنة", "Hanna|Hannah"},
    {"خزامى", "Khuzama|Khozama"}, {"درة", "Durra|Dorra"}, {"ديما", "Dima|Deema"},
    {"رتاج", "Rataj|Ritaj"}, {"رميساء", "Rumaysa|Roumaissa"}, {"ريحانة", "Rayhana|Rihana"},
    {"زبيدة", "Zubaida|Zoubida"}, {"سعدية", "Saadia|Saadiya"}, {"سلافة", "Sulafa|Soulafa"},
    {"سندس", "Sondos|Sundus"}, {"شمس", "Shams"}, {"صباح", "Sabah"}, {"عواطف", "Awatef|Awatif"},
    {"غفران", "Ghufran|Ghofrane"}, {"فضيلة", "Fadila|Fadhila"}, {"لانا", "Lana"},
    {"لين", "Leen|Lin"}, {"ماسة", "Masa|Massa"}, {"مايا", "Maya"}, {"نجمة", "Najma|Nejma"},
    {"نرمين", "Narmin|Nermine"}, {"نوف", "Nouf|Nuf"}, {"هناء", "Hanaa|Hana"},
    {"وردة", "Warda|Wardah"}, {"ياسمينة", "Yasmina|Yasmeena"}, {"أنسام", "Ansam"},
    {"بيسان", "Baysan|Bisan"}, {"تولين", "Toleen|Tulin"}, {"جلنار", "Julnar|Jolnar"},
    {"حوراء", "Hawraa|Haura"}, {"رفقة", "Rifqa|Rifka"}, {"سدرة", "Sidra|Sedra"}, {"شام", "Sham"},
    {"عنود", "Anoud|Anood"}, {"غيداء", "Ghaidaa|Ghayda"}, {"لجينة", "Lujaina|Loujaina"},
    {"مودة", "Mawadda|Mawaddah"}, {"نغم", "Nagham|Naghm"}, {"هديل", "Hadeel|Hadil"},
    {"وجدان", "Wijdan|Wejdane"}, {"يسرا", "Yousra|Yusra"},
};

/* Family names, most common first; those with the article get Latin prefixes (Al-, El, ...). */
static const struct gname family[] = {
    {"الأحمد", "Ahmad|Ahmed"}, {"العلي", "Ali"}, {"الحسن", "Hassan|Hasan"},
    {"المحمد", "Mohammed|Muhammad"}, {"الخطيب", "Khatib|Khateeb"}, {"السيد", "Sayed|Sayyid"},
    {"الشريف", "Sharif|Shareef"}, {"المصري", "Masri|Misri"}, {"الحسين", "Hussein|Husain"},
    {"النجار", "Najjar|Najar"}, {"الحداد", "Haddad"}, {"الصالح", "Saleh|Salih"}, {"العمر", "Omar"},
    {"الحلبي", "Halabi"}, {"الشامي", "Shami"}, {"التميمي", "Tamimi"},
    {"الجبوري", "Jubouri|Jabouri"}, {"الدليمي", "Dulaimi"}, {"الشمري", "Shammari"},
    {"العتيبي", "Otaibi"}, {"المطيري", "Mutairi"}, {"الحربي", "Harbi"},
    {"القحطاني", "Qahtani|Kahtani"}, {"الغامدي", "Ghamdi"}, {"الزهراني", "Zahrani"},
    {"الدوسري", "Dosari|Dossari"}, {"العنزي", "Enezi|Anazi"}, {"السعدي", "Saadi"},
    {"الكعبي", "Kaabi"}, {"الهاشمي", "Hashemi|Hashimi"}, {"الأنصاري", "Ansari"},
    {"الرفاعي", "Rifai|Refaei"}, {"الزعبي", "Zoubi|Zubi"}, {"الحمادي", "Hammadi"},
    {"البغدادي", "Baghdadi"}, {"الكردي", "Kurdi"}, {"القاضي", "Qadi|Kadi"},
    {"الطويل", "Tawil|Taweel"}, {"الحوراني", "Hourani|Horani"}, {"العطار", "Attar"},
    {"الفارس", "Fares|Faris"}, {"البنا", "Banna"}, {"الزين", "Zein|Zain"},
    {"الخوري", "Khoury|Khouri"}, {"الراشد", "Rashed|Rashid"}, {"حمدان", "Hamdan"},
    {"سليمان", "Suleiman|Sulaiman"}, {"درويش", "Darwish|Darweesh"}, {"عودة", "Odeh|Awda"},
    {"جابر", "Jaber|Jabir"}, {"سرحان", "Sarhan"}, {"ضاهر", "Daher|Dahir"},
    {"شحادة", "Shehadeh|Shahada"}, {"سلامة", "Salameh|Salama"}, {"زيدان", "Zeidan|Zidan"},
    {"أبو زيد", "Abu Zaid|Abou Zeid"}, {"أبو علي", "Abu Ali|Abou Ali"},
    {"عبد الله", "Abdullah|Abdallah"}, {"حجازي", "Hijazi|Hegazi"}, {"عبيد", "Obeid|Ubaid"},
    {"نصر", "Nasr"}, {"صبري", "Sabri|Sabry"}, {"الإدلبي", "Idlibi"}, {"النعيمي", "Naimi|Nuaimi"},
    {"الظاهر", "Dhaher|Zaher"}, {"الرشيد", "Rashid|Rasheed"}, {"البيطار", "Bitar|Baytar"},
    {"العبيدي", "Obaidi|Ubaydi"}, {"الجنابي", "Janabi"}, {"الخزرجي", "Khazraji"},
    {"الربيعي", "Rubaie|Rubaiy"}, {"الساعدي", "Saedi|Saadi"}, {"الموسوي", "Musawi|Moussawi"},
    {"الحسيني", "Husseini|Husaini"}, {"الكبيسي", "Kubaisi"}, {"العزاوي", "Azzawi"},
    {"الزبيدي", "Zubaidi"}, {"البياتي", "Bayati"}, {"الطائي", "Tai|Taie"},
    {"العامري", "Amiri|Ameri"}, {"الشهري", "Shehri|Shahri"}, {"المالكي", "Maliki"},
    {"السبيعي", "Subaie|Sebaie"}, {"البلوشي", "Balushi|Baloushi"}, {"الكندي", "Kindi"},
    {"الهاجري", "Hajri|Hajiri"}, {"الرشيدي", "Rashidi"}, {"العجمي", "Ajmi"}, {"المري", "Marri"},
    {"النعيمات", "Nuaimat"}, {"العبادي", "Abbadi|Ibadi"}, {"المجالي", "Majali"},
    {"الروسان", "Rousan|Rawsan"}, {"الخصاونة", "Khasawneh"}, {"الطراونة", "Tarawneh"},
    {"العبداللات", "Abdallat"}, {"البطاينة", "Btaineh|Bataineh"}, {"الشوبكي", "Shobaki"},
    {"النابلسي", "Nabulsi"}, {"الخليلي", "Khalili"}, {"المقدسي", "Maqdisi|Makdisi"},
    {"الغزاوي", "Ghazawi"}, {"الدمشقي", "Dimashqi"}, {"الحمصي", "Homsi"}, {"الحموي", "Hamawi"},
    {"اللاذقاني", "Ladhqani"}, {"الطرابلسي", "Trabelsi|Tarabulsi"}, {"البيروتي", "Beiruti"},
    {"الصيداوي", "Saidawi"}, {"الصوري", "Souri"}, {"البقاعي", "Beqaai|Bekai"},
    {"الجزائري", "Jazairi|Djazairi"}, {"التونسي", "Tounsi|Tunisi"},
    {"المغربي", "Maghribi|Maghrebi"}, {"الليبي", "Libi"}, {"السوداني", "Sudani|Soudani"},
    {"اليمني", "Yamani|Yemeni"}, {"العدني", "Adani"}, {"الحضرمي", "Hadrami"},
    {"الصنعاني", "Sanani"}, {"الأهدل", "Ahdal"}, {"العمودي", "Amoudi"}, {"باعشن", "Baashen"},
    {"باوزير", "Bawazir|Bawazeer"}, {"السقاف", "Saqqaf|Seggaf"}, {"العيدروس", "Aidarous|Aidarus"},
    {"الجفري", "Jifri|Jefri"}, {"الحبشي", "Habshi|Habashi"}, {"الكاف", "Kaf"},
    {"المهدي", "Mahdi|Mehdi"}, {"الهادي", "Hadi"}, {"الشريفي", "Sharifi"},
    {"منصور", "Mansour|Mansur"}, {"إبراهيم", "Ibrahim"}, {"يوسف", "Youssef|Yousef"},
    {"مصطفى", "Mustafa|Moustafa"}, {"محمود", "Mahmoud|Mahmud"}, {"عثمان", "Othman|Osman"},
    {"خليل", "Khalil"}, {"عيسى", "Issa|Eisa"}, {"موسى", "Musa|Moussa"},
    {"حسين", "Hussein|Hussain"}, {"حسن", "Hassan"}, {"علي", "Ali"}, {"أحمد", "Ahmed|Ahmad"},
    {"عمر", "Omar|Umar"}, {"صالح", "Saleh|Salih"}, {"سالم", "Salem|Salim"}, {"سعيد", "Said|Saeed"},
    {"عبد الرحمن", "Abdelrahman|Abdulrahman"}, {"عبد العزيز", "Abdelaziz|Abdulaziz"},
    {"عبد الحميد", "Abdelhamid|Abdulhamid"}, {"عبد القادر", "Abdelkader|Abdulqader"},
    {"عبد السلام", "Abdessalam|Abdulsalam"}, {"الشاذلي", "Chadli|Shadhili"}, {"بوزيد", "Bouzid"},
    {"بوعزيزي", "Bouazizi"}, {"بلحاج", "Belhadj|Belhaj"}, {"بن علي", "Ben Ali"},
    {"بن يوسف", "Ben Youssef"}, {"بوشعيب", "Bouchaib"}, {"بنعلي", "Benali"},
    {"بلقاسم", "Belkacem|Belqasim"}, {"الإدريسي", "Idrissi|Idrisi"}, {"العلوي", "Alaoui|Alawi"},
    {"الفاسي", "Fassi|Fasi"}, {"المراكشي", "Marrakchi"}, {"التازي", "Tazi"},
    {"الودغيري", "Ouadghiri"}, {"الزياني", "Ziani|Zayani"}, {"بنكيران", "Benkirane"},
    {"الكتاني", "Kettani|Kattani"}, {"السوسي", "Soussi|Susi"}, {"الرحماني", "Rahmani"},
    {"العمراني", "Amrani|Omrani"}, {"الحسني", "Hasni|Hassani"}, {"الشرقاوي", "Sharqawi|Cherkaoui"},
    {"الغرباوي", "Gharbawi|Gharbaoui"}, {"المنوفي", "Menoufi|Manufi"}, {"الصعيدي", "Saidi"},
    {"الإسكندراني", "Iskandarani"}, {"الدسوقي", "Desouki|Dasuqi"}, {"البدوي", "Badawi|Bedaoui"},
    {"الجمال", "Gammal|Jammal"}, {"الفخراني", "Fakhrani"},
    {"عبد الفتاح", "Abdelfattah|Abdulfattah"}, {"عبد الغني", "Abdelghani|Abdulghani"},
    {"متولي", "Metwally|Mitwalli"}, {"شلبي", "Shalaby|Chalabi"}, {"عاشور", "Ashour|Achour"},
    {"رمضان", "Ramadan"}, {"شعبان", "Shaaban|Chaabane"}, {"غنيم", "Ghoneim|Ghunaim"},
    {"عوض", "Awad"}, {"سرور", "Sorour|Surur"}, {"فرج", "Farag|Faraj"}, {"السباعي", "Sebai|Sibai"},
    {"الجندي", "Gindi|Jundi"}, {"الحكيم", "Hakim|Hakeem"}, {"الطحان", "Tahhan|Tahan"},
    {"القصاب", "Qassab|Kassab"}, {"الخياط", "Khayyat|Khayat"}, {"الصباغ", "Sabbagh"},
    {"الدباغ", "Dabbagh"}, {"الحلاق", "Hallaq|Hallak"}, {"السمان", "Samman"},
    {"الزيات", "Zayyat|Zayat"}, {"الفلاحي", "Fallahi"}, {"الحجار", "Hajjar"},
    {"الشيخ", "Sheikh|Cheikh"}, {"الإمام", "Imam"}, {"المفتي", "Mufti"}, {"الخالدي", "Khalidi"},
    {"العمري", "Omari|Amri"}, {"البكري", "Bakri"}, {"العثماني", "Othmani|Osmani"},
    {"الجعفري", "Jaafari|Jafari"}, {"الصديقي", "Siddiqi|Seddiki"}, {"الفاروقي", "Farouqi|Faruqi"},
    {"القرشي", "Qurashi|Kurashi"}, {"الأموي", "Amawi|Umawi"}, {"الغساني", "Ghassani"},
    {"الأزدي", "Azdi"}, {"التغلبي", "Taghlibi"}, {"البكار", "Bakkar"}, {"الدرويش", "Darwish"},
    {"العساف", "Assaf"}, {"الفضلي", "Fadhli|Fadli"}, {"الخالد", "Khaled|Khalid"},
    {"السالم", "Salem|Salim"}, {"الجاسم", "Jassim|Jasem"}, {"الحمد", "Hamad"},
    {"الفهد", "Fahad|Fahd"}, {"الناصر", "Nasser|Naser"}, {"البدر", "Badr|Bader"},
    {"الصقر", "Saqr"}, {"السويدي", "Suwaidi|Sweidi"}, {"المهيري", "Muhairi"},
    {"الفلاسي", "Falasi"}, {"المنصوري", "Mansouri"}, {"الظاهري", "Dhaheri|Zaheri"},
    {"النقبي", "Naqbi"}, {"الشحي", "Shehhi|Shihi"}, {"ياسين", "Yassin|Yasin"},
    {"حمود", "Hammoud|Hamoud"}, {"حداد", "Haddad"}, {"قاسم", "Qasim|Kassem"}, {"نجم", "Najm|Nejm"},
    {"زكريا", "Zakaria"}, {"داود", "Daoud|Dawood"}, {"الجابر", "Jaber"}, {"الصباح", "Sabah"},
    {"الثاني", "Thani|Al Thani"}, {"النهيان", "Nahyan"}, {"المكتوم", "Maktoum"},
    {"القاسمي", "Qasimi"}, {"الحارثي", "Harthi"}, {"البوسعيدي", "Busaidi"}, {"الهنائي", "Hinai"},
    {"الرواحي", "Rawahi"}, {"البطاشي", "Battashi"}, {"الريامي", "Riyami"}, {"المعولي", "Maawali"},
    {"الشكيلي", "Shukaili"}, {"العبري", "Abri"},
};

/* Birth places, most common first. */
static const struct gname place[] = {
    {"عمان", "Amman"}, {"دمشق", "Damascus|Dimashq"}, {"حلب", "Aleppo|Halab"}, {"بغداد", "Baghdad"},
    {"غزة", "Gaza"}, {"صنعاء", "Sanaa"}, {"القاهرة", "Cairo|Al Qahira"}, {"الخرطوم", "Khartoum"},
    {"الموصل", "Mosul"}, {"حمص", "Homs"}, {"الزرقاء", "Zarqa"}, {"إربد", "Irbid"},
    {"بيروت", "Beirut"}, {"البصرة", "Basra|Basrah"}, {"إدلب", "Idlib"}, {"عدن", "Aden"},
    {"تعز", "Taiz"}, {"طرابلس", "Tripoli|Trablous"}, {"المفرق", "Mafraq"}, {"الرقة", "Raqqa"},
    {"دير الزور", "Deir ez-Zor|Deir al-Zour"}, {"صيدا", "Saida|Sidon"}, {"صور", "Tyre|Sour"},
    {"عكار", "Akkar"}, {"رفح", "Rafah"}, {"نابلس", "Nablus"}, {"الخليل", "Hebron|Khalil"},
    {"الحديدة", "Hodeidah"}, {"نيالا", "Nyala"}, {"الفاشر", "El Fasher"}, {"بعلبك", "Baalbek"},
    {"حماة", "Hama"}, {"درعا", "Daraa|Deraa"}, {"اللاذقية", "Latakia|Lattakia"},
    {"طرطوس", "Tartus|Tartous"}, {"القامشلي", "Qamishli"}, {"الحسكة", "Hasakah|Hassakeh"},
    {"كركوك", "Kirkuk"}, {"أربيل", "Erbil|Arbil"}, {"السليمانية", "Sulaymaniyah"},
    {"النجف", "Najaf"}, {"كربلاء", "Karbala"}, {"الفلوجة", "Fallujah"}, {"الرمادي", "Ramadi"},
    {"تكريت", "Tikrit"}, {"سامراء", "Samarra"}, {"الناصرية", "Nasiriyah"}, {"العمارة", "Amarah"},
    {"الكوت", "Kut"}, {"الحلة", "Hillah"}, {"جنين", "Jenin"}, {"طولكرم", "Tulkarm"},
    {"بيت لحم", "Bethlehem|Bayt Lahm"}, {"أريحا", "Jericho|Ariha"},
    {"خان يونس", "Khan Younis|Khan Yunis"}, {"دير البلح", "Deir al-Balah"}, {"جباليا", "Jabalia"},
    {"الإسكندرية", "Alexandria|Iskandariya"}, {"الجيزة", "Giza"}, {"أسيوط", "Asyut|Assiut"},
    {"المنصورة", "Mansoura"}, {"طنطا", "Tanta"}, {"الأقصر", "Luxor"}, {"أسوان", "Aswan"},
    {"بورسعيد", "Port Said"}, {"مأرب", "Marib"}, {"إب", "Ibb"}, {"ذمار", "Dhamar"},
    {"صعدة", "Saada"}, {"المكلا", "Mukalla"}, {"حجة", "Hajjah"}, {"الرياض", "Riyadh"},
    {"جدة", "Jeddah|Jiddah"}, {"مكة", "Mecca|Makkah"}, {"المدينة", "Medina|Madinah"},
    {"الدمام", "Dammam"}, {"الكويت", "Kuwait"}, {"الدوحة", "Doha"}, {"المنامة", "Manama"},
    {"دبي", "Dubai"}, {"أبوظبي", "Abu Dhabi"}, {"مسقط", "Muscat"}, {"صلالة", "Salalah"},
    {"بنغازي", "Benghazi"}, {"مصراتة", "Misrata"}, {"سبها", "Sabha"}, {"تونس", "Tunis"},
    {"صفاقس", "Sfax"}, {"سوسة", "Sousse"}, {"الجزائر", "Algiers|Alger"}, {"وهران", "Oran|Wahran"},
    {"قسنطينة", "Constantine"}, {"الدار البيضاء", "Casablanca"}, {"فاس", "Fes|Fez"},
    {"مراكش", "Marrakech|Marrakesh"}, {"الرباط", "Rabat"}, {"طنجة", "Tangier|Tanger"},
    {"نواكشوط", "Nouakchott"}, {"أم درمان", "Omdurman"}, {"بورتسودان", "Port Sudan"},
    {"كسلا", "Kassala"}, {"الأبيض", "El Obeid"}, {"الجنينة", "El Geneina"}, {"الزعتري", "Zaatari"},
    {"الرمثا", "Ramtha"}, {"السلط", "Salt"}, {"الكرك", "Karak"}, {"معان", "Maan"},
    {"العقبة", "Aqaba"}, {"مادبا", "Madaba"}, {"جرش", "Jerash"}, {"زحلة", "Zahle"},
    {"النبطية", "Nabatieh"}, {"جبيل", "Byblos|Jbeil"},
};

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

/* Built-in profiles. */
static const struct match_gen_profile profiles[] = {
    /* like the shared development set */
    {"dev", 0.05, 0.12, 0.4, 0.10, 0.05, 0.06, 0.20, 0.15, 0.04, 0.25, 0.04, 0.35, 0.06, 0.03,
     0.04, 0.05, 0.02, 0.02, 0.05, 0.15, 2.8, 0.7},
    /* more of everything that hurts */
    {"hard", 0.12, 0.25, 0.5, 0.2, 0.12, 0.12, 0.35, 0.3, 0.1, 0.4, 0.1, 0.5, 0.12, 0.06, 0.08,
     0.1, 0.05, 0.04, 0.12, 0.3, 3.5, 0.9},
    /* careful clerks */
    {"clean", 0.02, 0.05, 0.2, 0.05, 0.02, 0.03, 0.1, 0.05, 0.02, 0.1, 0.02, 0.3, 0.03, 0.01,
     0.02, 0.02, 0.01, 0.01, 0.03, 0.1, 2.5, 0.5},
    /* a mixed Arabic/Latin registry */
    {"latin", 0.35, 0.1, 0.3, 0.1, 0.05, 0.05, 0.2, 0.15, 0.04, 0.25, 0.04, 0.35, 0.06, 0.03,
     0.04, 0.05, 0.02, 0.02, 0.05, 0.15, 2.8, 0.7},
};

/* Looks up a profile; see gen.h. */
const struct match_gen_profile *match_gen_profile_find(const char *name)
{
    for (size_t i = 0; i < N_OF(profiles); i++) {
        if (strcmp(profiles[i].name, name) == 0) {
            return &profiles[i];
        }
    }
    return NULL;
}

/* Random state (xorshift64*). */
static uint64_t rnd(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 0x2545F4914F6CDD1DULL;
}

/* Uniform in [0, n); 0 when n is 0 (an empty choice, e.g. a one-letter name to misspell). */
static size_t pick(uint64_t *s, size_t n)
{
    return n ? (size_t)(rnd(s) % n) : 0;
}

/* True with probability p. */
static bool chance(uint64_t *s, double p)
{
    return (double)(rnd(s) >> 11) / 9007199254740992.0 < p;
}

/* Cumulative Zipf-like weights over a name list: rank r (from 0) weighs
 * 1 / (r + 1.5)^exponent, so the first names of a list are common and the
 * tail is long, as in a real registry. */
struct wtab {
    double cum[512]; /* cumulative weights */
    size_t n;        /* names */
};

/* Fills t for a list of n names (at most 512). */
static void wtab_init(struct wtab *t, size_t n, double exponent)
{
    t->n = n > 512 ? 512 : n;
    double c = 0;
    for (size_t r = 0; r < t->n; r++) {
        c += pow((double)r + 1.5, -exponent);
        t->cum[r] = c;
    }
}

/* A rank drawn with the weights of t. */
static int pick_w(uint64_t *s, const struct wtab *t)
{
    double u = (double)(rnd(s) >> 11) / 9007199254740992.0 * t->cum[t->n - 1];
    size_t lo = 0, hi = t->n - 1;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (t->cum[mid] <= u) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return (int)lo;
}

/* The weight tables of the lists. */
struct wtabs {
    struct wtab male;   /* boys' and men's names */
    struct wtab female; /* girls' and women's names */
    struct wtab family; /* family names */
    struct wtab place;  /* birth places */
};

/* A string as code points, for editing. */
struct cps {
    uint32_t c[256]; /* code points */
    int n;           /* count */
};

/* Decodes UTF-8 into cps (input is our own valid tables). */
static void to_cps(const char *s, struct cps *o)
{
    const unsigned char *p = (const unsigned char *)s;
    o->n = 0;
    while (*p && o->n < 255) {
        uint32_t c = *p;
        int k = 0;
        if (c >= 0xF0) {
            c &= 0x07;
            k = 3;
        } else if (c >= 0xE0) {
            c &= 0x0F;
            k = 2;
        } else if (c >= 0xC0) {
            c &= 0x1F;
            k = 1;
        }
        p++;
        for (int i = 0; i < k && *p; i++, p++) {
            c = (c << 6) | (*p & 0x3F);
        }
        o->c[o->n++] = c;
    }
}

/* Appends cps as UTF-8 to b. */
static void add_cps(struct buf *b, const struct cps *o)
{
    for (int i = 0; i < o->n; i++) {
        uint32_t c = o->c[i];
        if (c < 0x80) {
            buf_addch(b, (int)c);
        } else if (c < 0x800) {
            buf_addch(b, (int)(0xC0 | (c >> 6)));
            buf_addch(b, (int)(0x80 | (c & 0x3F)));
        } else {
            buf_addch(b, (int)(0xE0 | (c >> 12)));
            buf_addch(b, (int)(0x80 | ((c >> 6) & 0x3F)));
            buf_addch(b, (int)(0x80 | (c & 0x3F)));
        }
    }
}

/* Inserts c at position i. */
static void cps_insert(struct cps *o, int i, uint32_t c)
{
    if (o->n >= 255) {
        return;
    }
    memmove(o->c + i + 1, o->c + i, sizeof(uint32_t) * (size_t)(o->n - i));
    o->c[i] = c;
    o->n++;
}

/* Removes position i. */
static void cps_remove(struct cps *o, int i)
{
    memmove(o->c + i, o->c + i + 1, sizeof(uint32_t) * (size_t)(o->n - i - 1));
    o->n--;
}

/* Groups of letters that sound alike (clerks confuse them). */
static const uint32_t sound_alike[][3] = {
    {0x633, 0x635, 0x62B}, /* س ص ث */
    {0x62A, 0x637, 0},     /* ت ط */
    {0x643, 0x642, 0},     /* ك ق */
    {0x630, 0x632, 0x638}, /* ذ ز ظ */
    {0x636, 0x638, 0x62F}, /* ض ظ د */
    {0x62D, 0x647, 0},     /* ح ه */
    {0x639, 0x621, 0},     /* ع ء */
};

/* Spelling variant: ta marbuta, alef maqsura, hamza forms. */
static void spell(struct cps *o, uint64_t *s)
{
    for (int tries = 0; tries < 6; tries++) {
        int i = (int)pick(s, (size_t)o->n);
        uint32_t c = o->c[i];
        uint32_t r = 0;
        if (c == 0x629) {
            r = 0x647; /* ة -> ه */
        } else if (c == 0x647 && i == o->n - 1) {
            r = 0x629;
        } else if (c == 0x649) {
            r = 0x64A; /* ى -> ي */
        } else if (c == 0x64A && i == o->n - 1) {
            r = 0x649;
        } else if (c == 0x623 || c == 0x625 || c == 0x622) {
            r = 0x627; /* أ إ آ -> ا */
        } else if (c == 0x627 && i == 0) {
            r = chance(s, 0.5) ? 0x623 : 0x625;
        } else if (c == 0x626) {
            r = 0x621;
        } else if (c == 0x621) {
            r = 0x626;
        } else if (c == 0x624) {
            r = 0x648;
        }
        if (r) {
            o->c[i] = r;
            return;
        }
    }
}

/* A typo: a sound-alike letter, a dropped, doubled or swapped letter. */
static void typo(struct cps *o, uint64_t *s)
{
    if (o->n < 3) {
        return;
    }
    int kind = (int)pick(s, 4);
    int i = 1 + (int)pick(s, (size_t)(o->n - 1));
    if (o->c[i] == ' ' || o->c[i - 1] == ' ') {
        return;
    }
    if (kind == 0) {
        for (size_t g = 0; g < N_OF(sound_alike); g++) {
            for (int k = 0; k < 3; k++) {
                if (sound_alike[g][k] && sound_alike[g][k] == o->c[i]) {
                    uint32_t r = sound_alike[g][(k + 1 + pick(s, 2)) % 3];
                    o->c[i] = r ? r : sound_alike[g][(k + 1) % 2];
                    return;
                }
            }
        }
        kind = 1;
    }
    if (kind == 1 && o->n > 3) {
        cps_remove(o, i);
    } else if (kind == 2) {
        cps_insert(o, i, o->c[i]);
    } else if (i + 1 < o->n && o->c[i + 1] != ' ') {
        uint32_t t = o->c[i];
        o->c[i] = o->c[i + 1];
        o->c[i + 1] = t;
    }
}

/* Stray marks: a diacritic, a tatweel, or spaces. */
static void marks(struct cps *o, uint64_t *s)
{
    int kind = (int)pick(s, 4);
    int i = 1 + (int)pick(s, (size_t)o->n);
    if (i > o->n) {
        i = o->n;
    }
    if (kind == 0) {
        cps_insert(o, i, 0x64B + (uint32_t)pick(s, 8)); /* fatha, damma, kasra, sukun ... */
    } else if (kind == 1 && i < o->n) {
        cps_insert(o, i, 0x640); /* tatweel */
    } else if (kind == 2) {
        cps_insert(o, 0, ' ');
    } else {
        for (int k = 0; k < o->n; k++) {
            if (o->c[k] == ' ') {
                cps_insert(o, k, ' ');
                return;
            }
        }
        cps_insert(o, o->n, ' ');
    }
}

/* Compound written the other way: joined or split (عبد الرحمن / عبدالرحمن). */
static void compound(struct cps *o)
{
    for (int k = 0; k < o->n; k++) {
        if (o->c[k] == ' ') {
            cps_remove(o, k);
            return;
        }
    }
}

/* Appends an Arabic name with the profile's variations. kind: 0 given, 1 family/place. */
static void add_arabic(struct buf *b, const char *name, int kind,
                       const struct match_gen_profile *p, uint64_t *s)
{
    struct cps o;
    to_cps(name, &o);
    bool has_space = false;
    for (int k = 0; k < o.n; k++) {
        has_space |= o.c[k] == ' ';
    }
    if (has_space && chance(s, p->p_compound)) {
        compound(&o);
    }
    if (kind == 1 && !has_space && chance(s, p->p_article)) {
        if (o.n > 4 && o.c[0] == 0x627 && o.c[1] == 0x644) {
            cps_remove(&o, 0);
            cps_remove(&o, 0);
        } else {
            cps_insert(&o, 0, 0x644);
            cps_insert(&o, 0, 0x627);
        }
    }
    if (chance(s, p->p_spell)) {
        spell(&o, s);
    }
    if (chance(s, p->p_typo)) {
        typo(&o, s);
    }
    if (chance(s, p->p_mark)) {
        marks(&o, s);
    }
    add_cps(b, &o);
}

/* Appends one of a name's Latin spellings with case and typo variations. */
static void add_latin(struct buf *b, const struct gname *g, int kind,
                      const struct match_gen_profile *p, uint64_t *s)
{
    const char *alts = g->lat;
    size_t n_alts = 1;
    for (const char *q = alts; *q; q++) {
        n_alts += *q == '|';
    }
    size_t want = pick(s, n_alts);
    const char *st = alts;
    for (size_t k = 0; k < want; k++) {
        st = strchr(st, '|') + 1;
    }
    const char *en = strchr(st, '|');
    size_t len = en ? (size_t)(en - st) : strlen(st);
    char tmp[128];
    size_t w = 0;
    bool article = kind == 1 && strncmp(g->ar, "ال", strlen("ال")) == 0;
    if (article && !chance(s, p->p_article)) {
        static const char *const pre[] = {"Al-", "Al ", "El-", "El ", "al-", "Al", "el-"};
        const char *x = pre[pick(s, N_OF(pre))];
        size_t xl = strlen(x);
        memcpy(tmp, x, xl);
        w = xl;
    }
    memcpy(tmp + w, st, len);
    w += len;
    tmp[w] = '\0';
    int c = (int)pick(s, 10);
    for (size_t k = 0; k < w; k++) {
        if (c == 0 && tmp[k] >= 'a' && tmp[k] <= 'z') {
            tmp[k] = (char)(tmp[k] - 32); /* UPPER */
        } else if (c == 1 && tmp[k] >= 'A' && tmp[k] <= 'Z') {
            tmp[k] = (char)(tmp[k] + 32); /* lower */
        }
    }
    if (chance(s, p->p_typo / 2) && w > 4) {
        size_t i = 1 + pick(s, w - 2);
        if (tmp[i] != ' ' && tmp[i + 1] != ' ' && tmp[i] != '-' && tmp[i + 1] != '-') {
            char t = tmp[i];
            tmp[i] = tmp[i + 1];
            tmp[i + 1] = t;
        }
    }
    buf_add(b, tmp, w);
}

/* A child: one entity of the truth. */
struct child {
    int first;       /* index into male[] or female[] */
    int sex;         /* 1 male, 2 female */
    int y, m, d;     /* true birth date */
    bool twin;       /* has a twin */
};

/* A household. */
struct household {
    int father, grandfather, fam, mother, mother_fam, place; /* name indexes */
};

/* Days in a month (ignoring leap years beyond February 28). */
static int mdays(int m)
{
    static const int d[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return d[m - 1];
}

/* Appends one CSV record of child c of household h to b with variations. */
static void add_record(struct buf *b, const struct household *h, const struct child *c,
                       const struct match_gen_profile *p, uint64_t *s)
{
    bool latin = chance(s, p->p_latin);
    const struct gname *first = c->sex == 1 ? &male[c->first] : &female[c->first];
    const struct gname *cols[2] = {first, &male[h->father]};
    if (chance(s, p->p_swap)) {
        cols[0] = &male[h->father];
        cols[1] = first;
    }
#define NAME(g, kind)                                                                         \
    do {                                                                                     \
        if (latin) {                                                                         \
            add_latin(b, (g), (kind), p, s);                                                 \
        } else {                                                                             \
            add_arabic(b, (g)->ar, (kind), p, s);                                            \
        }                                                                                    \
    } while (0)
    NAME(cols[0], 0);
    buf_addch(b, ',');
    NAME(cols[1], 0);
    buf_addch(b, ',');
    if (!chance(s, p->p_miss_gf)) {
        NAME(&male[h->grandfather], 0);
    }
    buf_addch(b, ',');
    if (!chance(s, p->p_miss_family)) {
        NAME(&family[h->fam], 1);
    }
    buf_addch(b, ',');
    if (!chance(s, p->p_miss_mother)) {
        NAME(&female[h->mother], 0);
        if (chance(s, p->p_mother_fam)) {
            buf_addch(b, ' ');
            NAME(&family[h->mother_fam], 1);
        }
    }
#undef NAME
    int sex = c->sex;
    if (chance(s, p->p_sex)) {
        sex = 3 - sex;
    }
    buf_addf(b, ",%c,", sex == 1 ? 'M' : 'F');
    if (!chance(s, p->p_miss_dob)) {
        int y = c->y, m = c->m, d = c->d;
        if (chance(s, p->p_dob_est)) {
            m = d = 1;
        } else {
            if (chance(s, p->p_dob_swap) && d <= 12 && d != m) {
                int t = d;
                d = m;
                m = t;
            }
            if (chance(s, p->p_dob_year)) {
                y += chance(s, 0.5) ? 1 : -1;
            }
            if (chance(s, p->p_dob_days)) {
                d += 1 + (int)pick(s, 4);
                if (d > mdays(m)) {
                    d -= mdays(m);
                    m = m % 12 + 1;
                }
            }
        }
        buf_addf(b, "%04d-%02d-%02d", y, m, d);
    }
    buf_addch(b, ',');
    if (!chance(s, p->p_miss_place)) {
        if (latin) {
            add_latin(b, &place[h->place], 1, p, s);
        } else {
            add_arabic(b, place[h->place].ar, 1, p, s);
        }
    }
}

/* A generated record before shuffling. */
struct grec {
    char *line;       /* CSV fields after record_id (owned) */
    uint32_t entity;  /* child number */
    uint32_t fam;     /* household number */
    bool twin;        /* the child is a twin */
};

/* Writes records; see gen.h. */
int match_gen_write(const struct match_gen_profile *p, size_t n_records, uint64_t seed,
                    FILE *data, FILE *truth)
{
    uint64_t s = seed * 0x9E3779B97F4A7C15ULL + 0x1234567ULL;
    if (!s) {
        s = 1;
    }
    struct wtabs *w = xmalloc(sizeof(*w));
    wtab_init(&w->male, N_OF(male), 1.0);
    wtab_init(&w->female, N_OF(female), 0.95);
    wtab_init(&w->family, N_OF(family), 0.8);
    wtab_init(&w->place, N_OF(place), 1.0);
    struct grec *recs = xcalloc(n_records ? n_records : 1, sizeof(*recs));
    size_t n = 0;
    uint32_t n_ent = 0, n_fam = 0;
    struct household prev;
    bool have_prev = false;
    struct buf b = BUF_INIT;
    while (n < n_records) {
        struct household h;
        if (have_prev && chance(&s, p->p_cousins)) {
            h = prev; /* cousins: same grandfather and family name */
            int f;
            do {
                f = pick_w(&s, &w->male);
            } while (f == prev.father);
            h.father = f;
            h.mother = pick_w(&s, &w->female);
            h.mother_fam = pick_w(&s, &w->family);
        } else {
            h.father = pick_w(&s, &w->male);
            do {
                h.grandfather = pick_w(&s, &w->male);
            } while (h.grandfather == h.father);
            h.fam = pick_w(&s, &w->family);
            h.mother = pick_w(&s, &w->female);
            h.mother_fam = pick_w(&s, &w->family);
            h.place = pick_w(&s, &w->place);
        }
        prev = h;
        have_prev = true;
        uint32_t fam_id = n_fam++;
        /* children: 1 + geometric, distinct first names */
        int k = 1;
        double cont = 1.0 - 1.0 / p->mean_children;
        while (k < 8 && chance(&s, cont)) {
            k++;
        }
        struct child kids[9];
        int y = 2006 + (int)pick(&s, 12);
        int n_kids = 0;
        bool twins = k >= 2 && chance(&s, p->p_twins);
        for (int i = 0; i < k; i++) {
            struct child *c = &kids[n_kids];
            c->sex = 1 + (int)pick(&s, 2);
            bool dup;
            do {
                c->first = pick_w(&s, c->sex == 1 ? &w->male : &w->female);
                dup = c->sex == 1 && c->first == h.father;
                for (int j = 0; j < n_kids; j++) {
                    dup |= kids[j].sex == c->sex && kids[j].first == c->first;
                }
            } while (dup);
            c->twin = false;
            if (twins && i == 1) {
                c->y = kids[0].y;
                c->m = kids[0].m;
                c->d = kids[0].d;
                c->twin = kids[0].twin = true;
            } else {
                c->y = y;
                c->m = 1 + (int)pick(&s, 12);
                c->d = 1 + (int)pick(&s, (size_t)mdays(c->m));
                y += 1 + (int)pick(&s, 3);
                if (y > 2024) {
                    y = 2024;
                }
            }
            n_kids++;
        }
        for (int i = 0; i < n_kids && n < n_records; i++) {
            uint32_t ent = n_ent++;
            int copies = 1;
            double more = p->dup_rate / (1.0 + p->dup_rate);
            while (copies < 6 && chance(&s, more)) {
                copies++;
            }
            for (int c = 0; c < copies && n < n_records; c++) {
                buf_reset(&b);
                add_record(&b, &h, &kids[i], p, &s);
                recs[n].line = xstrdup(b.buf);
                recs[n].entity = ent;
                recs[n].fam = fam_id;
                recs[n].twin = kids[i].twin;
                n++;
            }
        }
    }
    buf_release(&b);
    for (size_t i = n; i > 1; i--) {
        size_t j = pick(&s, i);
        struct grec t = recs[i - 1];
        recs[i - 1] = recs[j];
        recs[j] = t;
    }
    int rc = 0;
    fputs("record_id,first_name,father_name,grandfather_name,family_name,mother_name,sex,"
          "birth_date,birth_place\n",
          data);
    if (truth) {
        fputs("record_id,entity_id,family_id,twin\n", truth);
    }
    for (size_t i = 0; i < n; i++) {
        fprintf(data, "G%llu-%07zu,%s\n", (unsigned long long)seed, i, recs[i].line);
        if (truth) {
            fprintf(truth, "G%llu-%07zu,E%u,F%u,%d\n", (unsigned long long)seed, i,
                    recs[i].entity, recs[i].fam, recs[i].twin ? 1 : 0);
        }
        free(recs[i].line);
    }
    free(recs);
    free(w);
    if (ferror(data) || (truth && ferror(truth))) {
        rc = -1;
    }
    return rc;
}
